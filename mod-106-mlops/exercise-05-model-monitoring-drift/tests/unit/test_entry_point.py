"""The installed console script and --help (the one subprocess: Evidently is not imported)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftwatch import __version__
from driftwatch.cli import cli


@pytest.mark.points(1)
def test_entry_point_help_lists_the_commands_with_examples() -> None:
    exe = Path(sys.executable).parent / "driftwatch"
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for command in ("run", "backfill", "decide", "report", "ui", "simulate", "reference"):
        assert f"  {command}" in done.stdout
    assert "Examples:" in done.stdout and "--log-level" in done.stdout
    assert __version__ in CliRunner().invoke(cli, ["--version"]).output


@pytest.mark.points(1)
def test_simulate_rejects_a_bad_drift_spec(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path), "--drift", "9:magic"])
    assert result.exit_code == 3 and "DAY:KIND" not in result.output
    assert "kind must be one of" in result.output
    assert not any(tmp_path.iterdir())
