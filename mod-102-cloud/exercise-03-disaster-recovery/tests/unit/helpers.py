"""Catalog entries built in memory for the pure-logic tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drkit.catalog import BackupEntry, Catalog, StoredObject
from drkit.lsn import SEGMENT_SIZE, Lsn

BASE = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # a Monday


def entry(index: int, *, days: float | None = None, segment: int | None = None,
          timeline: int = 1) -> BackupEntry:
    """Backup number `index`: taken `days` after BASE, starting at WAL segment `segment`."""
    when = BASE + timedelta(days=index if days is None else days)
    seg = 2 + index * 4 if segment is None else segment
    start = Lsn(seg * SEGMENT_SIZE + 0x28)
    point = Lsn((seg + 1) * SEGMENT_SIZE + 0x100)
    return BackupEntry(
        backup_id=f"b{index:03d}", started_at=when, finished_at=when + timedelta(minutes=1),
        timeline=timeline, start_lsn=str(start), stop_lsn=str(Lsn(start.value + 0x200)),
        restore_point=f"drkit-b{index:03d}", restore_point_lsn=str(point),
        restore_point_time=when + timedelta(minutes=1),
        wal_start=start.segment(timeline).name, wal_stop=point.segment(timeline).name,
        objects=[StoredObject(key=f"backups/b{index:03d}/base.tar.zst.age", size=10,
                              plain_size=100, sha256="0" * 64)],
        recipients=["age1x"], pg_version=15, data_size=1000)


def catalog(*entries: BackupEntry) -> Catalog:
    result = Catalog()
    for item in entries:
        result = result.with_backup(item)
    return result
