import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelmon import __version__
from modelmon.cli import cli
from tests.unit.helpers import small_reference  # noqa: F401 - import check of helpers

EXE = Path(sys.executable).parent / "modelmon"


@pytest.mark.points(1)
def test_version_through_click() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.points(1)
def test_help_lists_commands_with_examples() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("scorecard", "exporter", "serve", "receiver", "traffic", "render", "stack"):
        assert command in result.output
    assert "Examples:" in result.output


@pytest.mark.points(1)
def test_entry_point_runs_reference(tmp_path: Path) -> None:
    out = tmp_path / "ref.json"
    result = subprocess.run([str(EXE), "reference", "--out", str(out)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    profile = json.loads(out.read_text())
    assert set(profile["features"]) == {"f0", "f1", "f2", "f3", "f4"}
    assert 0.85 < profile["baseline"]["accuracy"] < 0.97


@pytest.mark.points(1)
def test_invalid_config_file_is_exit_3(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("exporter:\n  window_seconds: -1\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "scorecard", "churn"])
    assert result.exit_code == 3
    assert "exporter.window_seconds" in result.output
    assert "Traceback" not in result.output


@pytest.mark.points(1)
def test_invalid_env_var_is_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELMON_PROMETHEUS_URL", "ftp://nope")
    result = CliRunner().invoke(cli, ["scorecard", "churn"])
    assert result.exit_code == 3
    assert "prometheus_url" in result.output


@pytest.mark.points(1)
@pytest.mark.hidden
def test_scorecard_unreachable_prometheus_is_exit_5(free_port: int) -> None:
    result = subprocess.run(
        [str(EXE), "scorecard", "churn", "--prometheus-url", f"http://127.0.0.1:{free_port}"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 5
    assert result.stderr.startswith("error: cannot reach Prometheus")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.points(1)
def test_exporter_with_missing_reference_is_exit_3(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELMON_EXPORTER__REFERENCES", json.dumps([str(tmp_path / "no.json")]))
    result = CliRunner().invoke(cli, ["exporter"])
    assert result.exit_code == 3
    assert "reference file not found" in result.output


@pytest.mark.points(1)
def test_exporter_with_invalid_reference_is_exit_3(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": "m", "features": {"a": {"sample": [1, 2]}}}))
    monkeypatch.setenv("MODELMON_EXPORTER__REFERENCES", json.dumps([str(bad)]))
    result = CliRunner().invoke(cli, ["exporter"])
    assert result.exit_code == 3
    assert "feature a" in result.output


@pytest.mark.points(1)
def test_traffic_and_inject_unreachable_service_is_exit_5(free_port: int) -> None:
    url = f"http://127.0.0.1:{free_port}"
    runner = CliRunner()
    result = runner.invoke(cli, ["traffic", "--service-url", url, "--count", "1"])
    assert result.exit_code == 5 and "demo service" in result.output
    result = runner.invoke(cli, ["inject", "--service-url", url, "--error-rate", "0.5"])
    assert result.exit_code == 5


@pytest.mark.points(1)
def test_bad_option_values_are_usage_errors() -> None:
    result = CliRunner().invoke(cli, ["traffic", "--label-noise", "2"])
    assert result.exit_code == 2
