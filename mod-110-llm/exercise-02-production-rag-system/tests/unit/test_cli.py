import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ragkit import __version__
from ragkit.cli import cli


def test_version_through_click() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_entry_point_runs() -> None:
    exe = Path(sys.executable).parent / "ragkit"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--log-level" in result.stdout
