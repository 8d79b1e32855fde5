"""The PostgreSQL settings a DR-ready primary needs, in one place (demo, tests, benchmarks).

Why each one:
* wal_level=replica, max_wal_senders, max_replication_slots: streaming standbys and
  pg_basebackup/pg_receivewal;
* archive_mode/archive_command: every finished segment copied to the spool (no Python);
* wal_log_hints=on: pg_rewind can rejoin the old primary after a failover;
* synchronous_standby_names + synchronous_commit=on (sync mode): a commit is acknowledged
  only once the standby has it, so a failover loses no acknowledged write;
* archive_timeout: an idle primary still closes a segment now and then, bounding the RPO
  of a restore from the archive.
"""

from __future__ import annotations

from pathlib import Path

from drkit.archiver import archive_command

SettingValue = str | int | float | bool


def primary_settings(spool: Path, mode: str = "sync", standby_name: str = "standby1",
                     archive_timeout_s: int = 60) -> dict[str, SettingValue]:
    # BEGIN SOLUTION: replica WAL, archive to spool, hints for pg_rewind, sync standby if sync
    settings: dict[str, SettingValue] = {
        "wal_level": "replica",
        "max_wal_senders": 10,
        "max_replication_slots": 10,
        "wal_log_hints": True,
        "archive_mode": "on",
        "archive_command": archive_command(spool),
        "archive_timeout": archive_timeout_s,
        "hot_standby": True,
        "wal_keep_size": "256MB",
    }
    if mode == "sync":
        settings["synchronous_standby_names"] = standby_name
        settings["synchronous_commit"] = "on"
    else:
        settings["synchronous_standby_names"] = ""
    return settings
    # END SOLUTION
