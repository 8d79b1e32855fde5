from pathlib import Path

import pytest

from regman.errors import PolicyError
from regman.replication import load_config
from regman.retention import load_policy


@pytest.mark.points(1)
def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "retention.yaml"
    path.write_text("rules:\n  - repositories: apps/*\n    keep_last: [3\n")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert f"{path}:" in str(info.value.message)
    assert "invalid YAML" in info.value.message


@pytest.mark.points(1)
def test_validation_error_points_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "retention.yaml"
    path.write_text("grace_period_hours: 1\nrules:\n  - repositories: 'apps/*'\n"
                    "    keep_last: -2\n")
    with pytest.raises(PolicyError, match=r"retention.yaml:4: rules.0.keep_last"):
        load_policy(path)


@pytest.mark.points(1)
def test_bad_regex_and_unknown_key_rejected(tmp_path: Path) -> None:
    path = tmp_path / "retention.yaml"
    path.write_text("rules:\n  - repositories: x\n    keep_tags: ['(']\n")
    with pytest.raises(PolicyError, match="invalid regex"):
        load_policy(path)
    path.write_text("rules:\n  - repositories: x\n    keep_lsat: 3\n")
    with pytest.raises(PolicyError, match=r":3: rules\.0\.keep_lsat"):
        load_policy(path)


@pytest.mark.points(1)
def test_replication_rule_must_name_known_registries(tmp_path: Path) -> None:
    path = tmp_path / "replication.yaml"
    path.write_text("registries:\n  a: {url: 'http://127.0.0.1:1'}\n"
                    "rules:\n  - {name: r1, source: a, destination: b}\n")
    with pytest.raises(PolicyError, match="unknown registry 'b'"):
        load_config(path)


@pytest.mark.points(1)
def test_shipped_examples_parse() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    policy = load_policy(examples / "retention.yaml")
    assert policy.rule_for("apps/api") is not None and policy.keep_signed
    config = load_config(examples / "replication.yaml")
    assert [r.name for r in config.rules] == ["apps-to-mirror"]
