"""The archive_command is plain shell: run it for real with sh, as PostgreSQL would."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from drkit.archiver import archive_command
from drkit.topology import primary_settings


def run_archive(spool: Path, source: Path) -> int:
    command = archive_command(spool).replace("%p", str(source)).replace("%f", source.name)
    return subprocess.run(["sh", "-c", command], check=False, timeout=10).returncode


@pytest.mark.points(3)
def test_archive_command_copies_atomically_and_is_idempotent(tmp_path: Path) -> None:
    spool = tmp_path / "spool dir"
    spool.mkdir()
    segment = tmp_path / "000000010000000000000003"
    segment.write_bytes(b"w" * 1000)
    assert run_archive(spool, segment) == 0
    assert (spool / segment.name).read_bytes() == b"w" * 1000
    assert not list(spool.glob(".*"))  # the temp file was renamed away
    assert run_archive(spool, segment) == 0  # retried after a crash: same content is fine
    segment.write_bytes(b"different")
    assert run_archive(spool, segment) != 0  # never overwrite a different archived segment


@pytest.mark.points(2)
def test_primary_settings_for_sync_and_async(tmp_path: Path) -> None:
    sync = primary_settings(tmp_path, "sync", "standby1")
    assert sync["synchronous_standby_names"] == "standby1"
    assert sync["wal_log_hints"] is True and sync["archive_mode"] == "on"
    assert "python" not in str(sync["archive_command"]).lower()
    assert primary_settings(tmp_path, "async")["synchronous_standby_names"] == ""
