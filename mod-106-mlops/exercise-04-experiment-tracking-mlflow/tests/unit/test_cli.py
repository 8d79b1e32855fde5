import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiinfra_shared.procs.ports import free_port
from click.testing import CliRunner

from mltrack import __version__
from mltrack.cli import cli


@pytest.mark.points(1)
def test_version_and_help_examples() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    result = CliRunner().invoke(cli, ["promote", "--help"])
    assert result.exit_code == 0 and "--candidate" in result.output and "Example" in result.output


@pytest.mark.points(3)
def test_unreachable_server_is_one_line_naming_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(cli, ["--tracking-uri", url, "history", "m"],
                                env={"MLTRACK_RETRIES": "1", "MLTRACK_BACKOFF_S": "0.05"})
    assert result.exit_code == 5
    assert f"tracking server {url} is unreachable after 2 attempt(s)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.points(1)
def test_invalid_gate_config_exits_3(tmp_path: Path) -> None:
    config = tmp_path / "gates.yaml"
    config.write_text("gates:\n  min_metrics:\n    f1: 2\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "promote", "m",
                                      "--candidate", "1"])
    assert result.exit_code == 3
    assert "gates.min_metrics" in result.output and "between 0 and 1" in result.output


@pytest.mark.points(1)
def test_champion_alias_cannot_be_set_by_hand() -> None:
    result = CliRunner().invoke(cli, ["alias", "m", "champion", "1"])
    assert result.exit_code == 2 and "mltrack promote" in result.output


@pytest.mark.points(1)
def test_server_status_without_stack(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["server", "status", "--json"],
                                env={"MLTRACK_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 1 and '"running": false' in result.output
    result = CliRunner().invoke(cli, ["server", "down"], env={"MLTRACK_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 0 and "no stack running" in result.output


@pytest.mark.points(2)
@pytest.mark.hidden
def test_console_script_reports_unreachable_server() -> None:
    exe = Path(sys.executable).parent / "mltrack"
    url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "MLTRACK_TRACKING_URI": url, "MLTRACK_RETRIES": "0"}
    result = subprocess.run([str(exe), "leaderboard", "x"], capture_output=True, text=True,
                            check=False, env=env, timeout=120)
    assert result.returncode == 5
    assert result.stderr.strip().count("\n") == 0 and url in result.stderr


@pytest.mark.points(1)
@pytest.mark.hidden
def test_train_keras_without_tensorflow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keras", None)  # import keras -> ImportError
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(cli, ["--tracking-uri", url, "train", "keras", "--epochs", "1"],
                                env={"MLTRACK_RETRIES": "0"})
    assert result.exit_code == 5, result.output
    assert "install mltrack[tensorflow]" in result.output and "Traceback" not in result.output
    help_text = CliRunner().invoke(cli, ["train", "keras", "--help"]).output
    assert "--hidden" in help_text and "Example" in help_text
