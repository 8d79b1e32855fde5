"""CLI basics and bad input: one line, documented exit code, nothing written."""

from __future__ import annotations

import pytest

from mlcicd import __version__
from mlcicd.deploy import Environment, resolve_ref
from mlcicd.errors import ConfigInvalidError
from tests.conftest import cli

pytestmark = pytest.mark.points(1)


def test_version_and_help_with_examples():
    assert __version__ in cli("--version").output
    out = cli("--help").output
    assert "Examples:" in out and "mlcicd gate --base main" in out
    for command in ("init", "report", "gate", "package", "deploy", "rollback", "status"):
        assert command in out
    assert "Example:" in cli("deploy", "--help").output


def test_not_a_project_exit_4(tmp_path):
    for args in (["gate", "--base", "main"], ["report", "--base", "main"], ["data", "pull"],
                 ["check"]):
        result = cli("-C", str(tmp_path), *args)
        assert result.exit_code == 4, (args, result.output)
        assert "not an mlcicd project" in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_unknown_environment_is_a_usage_error(tmp_path):
    result = cli("-C", str(tmp_path), "deploy", "--env", "qa", "--ref", "1.0")
    assert result.exit_code == 2
    with pytest.raises(ConfigInvalidError):
        Environment(tmp_path, "qa")


def test_bad_settings_file_exit_3(tmp_path):
    config = tmp_path / "mlcicd.yaml"
    config.write_text("smoke_requests: many\n")
    result = cli("--config", str(config), "status", "--env", "staging")
    assert result.exit_code == 3
    assert "smoke_requests" in result.output


def test_settings_from_env_var(tmp_path):
    result = cli("-C", str(tmp_path), "status", "--env", "staging", "--json",
                 env={"MLCICD_STATE_DIR": str(tmp_path / "state")})
    assert result.exit_code == 0
    assert '"live": null' in result.output
    assert resolve_ref("1.2.3", "reg:5000", "ml/x") == "reg:5000/ml/x:1.2.3"
    assert resolve_ref("other:1/a/b:c", "reg:5000", "ml/x") == "other:1/a/b:c"


def test_rollback_without_history_exit_4(tmp_path):
    result = cli("status", "--env", "prod", env={"MLCICD_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 0
    result = cli("rollback", "--env", "prod", env={"MLCICD_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 4
    assert "no previous deployment" in result.output
