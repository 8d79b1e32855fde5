from pathlib import Path

import pytest

from envman.errors import Exit, NoProjectError, SpecError
from envman.spec import find_project, load_spec, parse_spec

GOOD = """[project]
name = "demo"
python = "3.11"
backend = "poetry"
dependencies = ["numpy>=2", "pandas<3"]
dev-dependencies = ["pytest"]

[groups]
plot = ["matplotlib"]

[env]
HF_HOME = "/cache"
"""


@pytest.mark.points(4)
def test_parse_good_spec_and_round_trip() -> None:
    spec = parse_spec(GOOD, "envman.toml")
    assert spec.project.backend == "poetry"
    assert spec.groups == {"plot": ["matplotlib"]}
    assert spec.base_image == "python:3.11-slim-bookworm"
    again = parse_spec(spec.to_toml(), "x")
    assert again == spec
    assert spec.declared_names(dev=False) == {"numpy", "pandas"}
    assert spec.declared_names(groups=("plot",)) == {"numpy", "pandas", "pytest", "matplotlib"}


@pytest.mark.points(4)
def test_content_hash_changes_with_dependencies_only() -> None:
    spec = parse_spec(GOOD, "x")
    other = parse_spec(GOOD.replace('"pytest"', '"pytest>=8"'), "x")
    env_only = parse_spec(GOOD.replace("/cache", "/other"), "x")
    assert spec.content_hash() != other.content_hash()
    assert spec.content_hash() == env_only.content_hash()


@pytest.mark.points(3)
def test_malformed_toml_names_file_and_line() -> None:
    with pytest.raises(SpecError) as err:
        parse_spec('[project]\nname = "x"\npython = 3.11.\n', "envman.toml")
    assert err.value.exit_code == Exit.CONFIG
    assert err.value.format_message().startswith("envman.toml:3: key python: invalid TOML")


@pytest.mark.points(3)
def test_unknown_backend_in_file_names_line_and_key() -> None:
    with pytest.raises(SpecError) as err:
        parse_spec(GOOD.replace('"poetry"', '"pipenv"'), "envman.toml")
    message = err.value.format_message()
    assert message.startswith("envman.toml:4: key project.backend:")
    assert "pipenv" in message


@pytest.mark.points(3)
@pytest.mark.hidden
def test_invalid_requirement_and_unknown_key() -> None:
    with pytest.raises(SpecError, match=r"envman.toml:5: key project.dependencies: .*item 1"):
        parse_spec(GOOD.replace('"pandas<3"', '"pandas<<3"'), "envman.toml")
    with pytest.raises(SpecError, match=r"envman.toml:1: key colour: Extra inputs"):
        parse_spec('colour = "red"\n' + GOOD, "envman.toml")
    with pytest.raises(SpecError, match=r"key project.python: .*3.11"):
        parse_spec(GOOD.replace('"3.11"', '"eleven"'), "envman.toml")


@pytest.mark.points(2)
def test_find_project_walks_up_and_fails_outside(tmp_path: Path) -> None:
    (tmp_path / "envman.toml").write_text(GOOD)
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_project(nested) == tmp_path.resolve()
    outside = tmp_path.parent / f"{tmp_path.name}-empty"
    outside.mkdir()
    with pytest.raises(NoProjectError) as err:
        find_project(outside)
    assert err.value.exit_code == Exit.NO_PROJECT
    with pytest.raises(NoProjectError):
        load_spec(outside / "envman.toml")
