"""The backup catalog kept in the bucket: what each backup is and what it needs to restore.

Why a catalog at all: restoring under pressure must not depend on listing and guessing. Each
entry names the backup's LSN range and timeline, the WAL it needs to be consistent, every
object with its SHA-256, the age recipients it was encrypted to, and the row counts and
table checksums taken at its verification point, so a restore can prove it got it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from drkit.errors import IntegrityError
from drkit.lsn import Lsn, Segment

CATALOG_KEY = "catalog.json"
CATALOG_VERSION = 1


class StoredObject(BaseModel):
    """One object in the bucket: key, stored size, plain size and checksum of what is stored."""

    key: str
    size: int
    plain_size: int
    sha256: str


class TableCheck(BaseModel):
    """Row count and an order-independent checksum of one table at the verification point."""

    database: str
    table: str
    rows: int
    checksum: str


class BackupEntry(BaseModel):
    """One full base backup."""

    backup_id: str
    started_at: datetime
    finished_at: datetime
    timeline: int
    start_lsn: str
    stop_lsn: str
    restore_point: str
    restore_point_lsn: str
    restore_point_time: datetime
    wal_start: str  # first WAL segment the backup needs
    wal_stop: str  # segment holding the verification point: the backup is usable from here
    objects: list[StoredObject]
    recipients: list[str]
    pg_version: int
    data_size: int
    tables: list[TableCheck] = Field(default_factory=list)
    artifacts_referenced: int = 0

    @property
    def stored_size(self) -> int:
        return sum(obj.size for obj in self.objects)

    @property
    def wal_start_segment(self) -> Segment:
        return Segment.parse(self.wal_start)

    @property
    def wal_stop_segment(self) -> Segment:
        return Segment.parse(self.wal_stop)

    @property
    def consistent_lsn(self) -> Lsn:
        return Lsn.parse(self.restore_point_lsn)


class Catalog(BaseModel):
    """All backups, oldest first, plus the restore points drkit created."""

    version: int = CATALOG_VERSION
    cluster: str = "metadata-db"
    backups: list[BackupEntry] = Field(default_factory=list)
    restore_points: dict[str, str] = Field(default_factory=dict)  # name -> LSN
    restore_point_times: dict[str, datetime] = Field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str | bytes) -> Catalog:
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise IntegrityError(f"catalog is invalid at {where}: {first['msg']}") from exc

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def find(self, backup_id: str) -> BackupEntry | None:
        return next((b for b in self.backups if b.backup_id == backup_id), None)

    def with_backup(self, entry: BackupEntry) -> Catalog:
        """A new catalog with `entry` appended (the stored catalog is only replaced whole)."""
        points = {**self.restore_points, entry.restore_point: entry.restore_point_lsn}
        times = {**self.restore_point_times, entry.restore_point: entry.restore_point_time}
        return self.model_copy(update={"backups": [*self.backups, entry],
                                       "restore_points": points,
                                       "restore_point_times": times})

    def with_restore_point(self, name: str, lsn: str, at: datetime) -> Catalog:
        return self.model_copy(update={
            "restore_points": {**self.restore_points, name: lsn},
            "restore_point_times": {**self.restore_point_times, name: at}})

    def without(self, backup_ids: set[str]) -> Catalog:
        return self.model_copy(update={
            "backups": [b for b in self.backups if b.backup_id not in backup_ids]})

    def summary(self) -> list[dict[str, Any]]:
        return [{"backup_id": b.backup_id, "finished_at": b.finished_at.isoformat(),
                 "timeline": b.timeline, "lsn": f"{b.start_lsn}..{b.stop_lsn}",
                 "wal": f"{b.wal_start}..{b.wal_stop}", "stored_bytes": b.stored_size,
                 "data_bytes": b.data_size, "recipients": len(b.recipients)}
                for b in self.backups]
