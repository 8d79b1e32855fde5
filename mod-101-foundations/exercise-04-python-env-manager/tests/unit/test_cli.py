import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from envman import __version__
from envman.cli import cli


@pytest.mark.points(1)
def test_version_through_click() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.points(1)
def test_entry_point_runs() -> None:
    exe = Path(sys.executable).parent / "envman"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--log-level" in result.stdout


@pytest.mark.points(1)
def test_help_has_examples_and_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "Examples:" in result.output
    assert "7  package not found" in result.output
    for command in ("create", "add", "export", "diff"):
        sub = CliRunner().invoke(cli, [command, "--help"])
        assert sub.exit_code == 0
        assert "Example" in sub.output
