import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from imgsec import __version__
from imgsec.cli import cli


@pytest.mark.points(1)
def test_version_and_help() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    exe = Path(sys.executable).parent / "imgsec"
    help_text = subprocess.run([str(exe), "scan", "--help"], capture_output=True, text=True,
                               check=False)
    assert help_text.returncode == 0 and "--fail-on" in help_text.stdout


@pytest.mark.points(1)
def test_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "import"]).exit_code == 2
    missing = runner.invoke(cli, ["--db", str(tmp_path / "none.db"), "scan", str(tmp_path)])
    assert missing.exit_code == 4 and "db import" in missing.output


@pytest.mark.points(1)
def test_stale_database_warns_and_rootfs_scans(tmp_path: Path) -> None:
    import json
    from datetime import UTC, datetime

    from imgsec.adapters.vulndb import import_records

    db = tmp_path / "old.db"
    import_records(db, [], "empty", now=datetime(2020, 1, 1, tzinfo=UTC))
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    result = CliRunner().invoke(cli, ["--db", str(db), "scan", f"dir:{root}", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["warnings"] and "days old" in payload["warnings"][0]
    assert "warning: vulnerability database is" in result.stderr
    assert payload["image"]["source"] == "rootfs" and payload["vulnerabilities"] == []
