"""Template catalogue, answer validation and rendering: pure functions, no processes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from aiinfra_shared.config import ConfigError

from mlscaffold.answers import AnswersError, parse_set_options, validate_answers
from mlscaffold.render import render_files
from mlscaffold.templates import get_template, load_templates

TEMPLATES = ("sklearn", "pytorch", "llm-gateway")
STANDARD_FILES = ("Dockerfile", "docker-compose.yml", "Makefile", "README.md", "pyproject.toml",
                  "k8s/deployment.yaml", "k8s/service.yaml", "k8s/hpa.yaml",
                  ".github/workflows/ci.yml", ".pre-commit-config.yaml", ".gitignore",
                  ".dockerignore")


@pytest.mark.points(3)
def test_catalogue_has_three_versioned_templates() -> None:
    templates = load_templates()
    assert set(TEMPLATES) <= set(templates)
    assert "_common" not in templates
    for t in templates.values():
        assert t.version.count(".") == 2
        assert "port" in t.questions  # common questions are merged in


@pytest.mark.points(2)
@pytest.mark.parametrize("name", TEMPLATES)
def test_render_contains_the_standard_files(name: str) -> None:
    template = get_template(name)
    files = render_files(template, validate_answers(template, {"project_name": "demo-svc"}))
    for required in STANDARD_FILES:
        assert required in files, required
    for module in ("main.py", "config.py", "web.py", "observability.py", "settings.py"):
        assert f"src/demo_svc/{module}" in files
    assert "tests/test_platform.py" in files
    assert not any(path.endswith(".j2") or "{{" in path for path in files)
    init = files["src/demo_svc/__init__.py"]
    assert f'TEMPLATE_VERSION = "{template.version}"' in init
    for path in ("k8s/deployment.yaml", "k8s/hpa.yaml", "docker-compose.yml"):
        assert yaml.safe_load(files[path])  # valid YAML after rendering


def _shared_pins() -> dict[str, str]:
    """The platform's heavy-dependency pins (shared/constraints.txt), by package name."""
    text = (Path(__file__).parents[4] / "shared" / "constraints.txt").read_text()
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return dict(line.split("==") for line in lines if line)


@pytest.mark.points(1)
@pytest.mark.parametrize("name", TEMPLATES)
def test_defaults_to_python_311_with_the_shared_pins(name: str) -> None:
    template = get_template(name)
    files = render_files(template, validate_answers(template, {"project_name": "demo-svc"}))
    assert files[".python-version"].strip() == "3.11"
    assert files["Dockerfile"].startswith("# syntax") and "FROM python:3.11." in files["Dockerfile"]
    pyproject = tomllib.loads(files["pyproject.toml"])
    assert pyproject["project"]["requires-python"] == ">=3.11"
    pins = _shared_pins()
    constraints = pyproject["tool"]["uv"]["constraint-dependencies"]
    assert constraints and all(c in {f"{n}=={v}" for n, v in pins.items()} for c in constraints)
    assert f"scipy=={pins['scipy']}" in constraints


@pytest.mark.points(3)
def test_answers_reach_the_files() -> None:
    template = get_template("pytorch")
    answers = validate_answers(template, {"project_name": "vec", "port": "9100",
                                          "max_wait_ms": 7, "max_replicas": 9})
    files = render_files(template, answers)
    assert "--port\", \"9100\"" in files["Dockerfile"]
    assert "maxReplicas: 9" in files["k8s/hpa.yaml"]
    assert "default=7" in files["src/vec/settings.py"]


@pytest.mark.points(1)
@pytest.mark.parametrize(("raw", "message"), [
    ({"project_name": "Bad_Name"}, "project_name"),
    ({"project_name": "ok", "port": "eighty"}, "port"),
    ({"project_name": "ok", "port": 80}, "port"),
    ({"project_name": "ok", "python_version": "2.7"}, "python_version"),
    ({"project_name": "ok", "min_replicas": 5, "max_replicas": 2}, "max_replicas"),
    ({"project_name": "ok", "color": "blue"}, "color"),
])
def test_bad_answers_are_rejected(raw: dict[str, object], message: str) -> None:
    with pytest.raises(AnswersError, match=message):
        validate_answers(get_template("sklearn"), raw)


@pytest.mark.hidden
@pytest.mark.points(2)
def test_set_options_parse_and_reject_unknown_keys() -> None:
    template = get_template("sklearn")
    assert parse_set_options(["port=9000", "author=A = B"], template) == {
        "port": "9000", "author": "A = B"}
    with pytest.raises(AnswersError, match="unknown question"):
        parse_set_options(["colour=red"], template)
    with pytest.raises(AnswersError, match="expected key=value"):
        parse_set_options(["port"], template)


@pytest.mark.hidden
@pytest.mark.points(2)
def test_yaml_float_choice_is_accepted() -> None:
    answers = validate_answers(get_template("sklearn"),
                               {"project_name": "ok", "python_version": 3.13})
    assert answers["python_version"] == "3.13"


@pytest.mark.hidden
@pytest.mark.points(2)
def test_undefined_variable_in_a_template_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    (folder / "files").mkdir(parents=True)
    (folder / "template.yaml").write_text("name: broken\nversion: 1.0.0\ndescription: x\n")
    (folder / "files" / "README.md.j2").write_text("{{ no_such_answer }}\n")
    template = get_template("broken", tmp_path)
    with pytest.raises(ConfigError, match=r"README.md.j2.*no_such_answer"):
        render_files(template, validate_answers(template, {"project_name": "x"}))


@pytest.mark.hidden
@pytest.mark.points(1)
def test_malformed_template_metadata_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "template.yaml").write_text("name: bad\nversion: one\ndescription: x\n")
    with pytest.raises(ConfigError, match="version"):
        load_templates(tmp_path)
