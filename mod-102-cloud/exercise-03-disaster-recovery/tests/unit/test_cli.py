import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from drkit import __version__
from drkit.cli import cli


@pytest.mark.points(1)
def test_version_through_click() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.points(1)
def test_entry_point_runs_with_examples() -> None:
    exe = Path(sys.executable).parent / "drkit"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--log-level" in result.stdout and "Examples" in result.stdout


@pytest.mark.points(2)
def test_drill_validate_rejects_unknown_step(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - write: {}\n  - teleport: {}\n")
    result = CliRunner().invoke(cli, ["drill", "validate", str(bad)])
    assert result.exit_code == 3
    assert result.output.strip().startswith("error:") and "unknown step 'teleport'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.points(1)
def test_keygen_writes_a_private_identity_once(tmp_path: Path) -> None:
    out = tmp_path / "key.age"
    first = CliRunner().invoke(cli, ["keygen", "--out", str(out)])
    assert first.exit_code == 0 and first.output.startswith("age1")
    assert out.stat().st_mode & 0o077 == 0
    again = CliRunner().invoke(cli, ["keygen", "--out", str(out)])
    assert again.exit_code == 6


@pytest.mark.points(1)
@pytest.mark.hidden
def test_conflicting_targets_and_bad_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["restore", "--to", str(tmp_path / "d"), "--port", "1",
                                      "--target-lsn", "0/1", "--target-name", "x"])
    assert result.exit_code == 2 and "choose one" in result.output
    config = tmp_path / "drkit.yaml"
    config.write_text("replication_mode: maybe\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "catalog"])
    assert result.exit_code == 3 and "replication_mode" in result.output
