import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ragkit import __version__
from ragkit.cli import cli

# --version and --help pass on a starter whose core is missing: 1 point each.
pytestmark = pytest.mark.points(1)


def test_version_through_click() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_entry_point_runs() -> None:
    exe = Path(sys.executable).parent / "ragkit"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--log-level" in result.stdout
