"""Plan a point-in-time restore without touching anything: the `--dry-run` answer.

Given the catalog, the WAL archive listing and the target, pick the backup, list the WAL
segments the recovery will replay, report any gap, and collect conflicts (restore dir not
empty, port taken). The executor (`restore.py`) runs exactly this plan, so what the dry run
says is what a real restore does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from drkit.catalog import BackupEntry, Catalog
from drkit.errors import NotFoundError
from drkit.lsn import SEGMENT_SIZE, Lsn, Segment, is_segment_name

TargetKind = Literal["latest", "time", "lsn", "name", "backup"]


@dataclass(frozen=True)
class RestoreTarget:
    """Where recovery stops: end of WAL, a time, an LSN, a named restore point, or the
    chosen backup's own verification point."""

    kind: TargetKind
    value: str = ""
    time: datetime | None = None

    def describe(self) -> str:
        return self.kind if self.kind in ("latest", "backup") else f"{self.kind} {self.value}"


@dataclass(frozen=True)
class ArchivedSegment:
    name: str
    size: int
    archived_at: datetime


@dataclass
class RestorePlan:
    backup: BackupEntry
    target: RestoreTarget
    timeline: int
    segments: list[str]
    missing: list[str]
    history_files: list[str]
    disk_needed: int
    conflicts: list[str] = field(default_factory=list)
    expected_seconds: float | None = None
    target_lsn: str | None = None

    @property
    def chain_complete(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {"backup_id": self.backup.backup_id, "target": self.target.describe(),
                "timeline": self.timeline, "wal_segments": len(self.segments),
                "first_segment": self.segments[0] if self.segments else None,
                "last_segment": self.segments[-1] if self.segments else None,
                "missing_segments": self.missing, "chain_complete": self.chain_complete,
                "history_files": self.history_files, "disk_needed_bytes": self.disk_needed,
                "conflicts": self.conflicts, "expected_seconds": self.expected_seconds}


def choose_backup(catalog: Catalog, target: RestoreTarget) -> BackupEntry:
    """The newest backup whose verification point is at or before the target."""
    # BEGIN SOLUTION: filter by consistent LSN (lsn/name) or time (time); error before the oldest
    if not catalog.backups:
        raise NotFoundError("the catalog has no backups")
    backups = sorted(catalog.backups, key=lambda b: b.finished_at)
    if target.kind in ("latest", "backup"):
        return backups[-1]
    if target.kind == "time":
        assert target.time is not None
        usable = [b for b in backups if b.restore_point_time <= target.time]
        if not usable:
            raise NotFoundError(f"target time {target.value} is before the oldest backup "
                                f"({backups[0].restore_point_time.isoformat()})")
        return usable[-1]
    lsn = Lsn.parse(resolve_lsn(catalog, target))
    usable = [b for b in backups if b.consistent_lsn <= lsn]
    if not usable:
        raise NotFoundError(f"target {target.describe()} is before the oldest backup "
                            f"({backups[0].restore_point_lsn})")
    return usable[-1]
    # END SOLUTION


def resolve_lsn(catalog: Catalog, target: RestoreTarget) -> str:
    if target.kind == "lsn":
        return str(Lsn.parse(target.value))
    if target.kind == "name":
        if target.value not in catalog.restore_points:
            raise NotFoundError(f"no restore point named {target.value!r} in the catalog")
        return catalog.restore_points[target.value]
    raise ValueError(f"target {target.kind} has no LSN")


def plan_restore(catalog: Catalog, archive: list[ArchivedSegment], target: RestoreTarget,
                 *, conflicts: list[str] | None = None,
                 last_restore_seconds: float | None = None,
                 backup_id: str | None = None) -> RestorePlan:
    """The full plan; raises NotFoundError for a target outside what the archive covers."""
    if backup_id:
        found = catalog.find(backup_id)
        if found is None:
            raise NotFoundError(f"no backup {backup_id!r} in the catalog")
        backup = found
    else:
        backup = choose_backup(catalog, target)
    segments = sorted((s for s in archive if is_segment_name(s.name)),
                      key=lambda s: Segment.parse(s.name))
    histories = sorted(s.name for s in archive if s.name.endswith(".history"))
    start = backup.wal_start_segment
    target_lsn: str | None = None
    # BEGIN SOLUTION: last segment per target kind (past the archive's end: error); pick files
    if target.kind == "backup":
        stop_number = backup.wal_stop_segment.number
        target_lsn = backup.restore_point_lsn
    elif target.kind in ("lsn", "name"):
        target_lsn = resolve_lsn(catalog, target)
        stop_number = Lsn.parse(target_lsn).value // SEGMENT_SIZE
        newest = Segment.parse(segments[-1].name).number if segments else -1
        if stop_number > newest:
            raise NotFoundError(f"target {target.describe()} is after the last archived WAL "
                                f"({segments[-1].name if segments else 'none archived'})")
    elif target.kind == "time":
        # S3 keeps whole seconds: a segment listed at 10:20:13 may hold WAL up to 10:20:13.999.
        # Recovery stops at the first commit after the target, so replay everything archived.
        assert target.time is not None
        if not segments or segments[-1].archived_at + timedelta(seconds=1) < target.time:
            last = segments[-1].archived_at.isoformat() if segments else "none archived"
            raise NotFoundError(f"target time {target.value} is after the last archived WAL "
                                f"({last})")
        stop_number = Segment.parse(segments[-1].name).number
    else:
        stop_number = Segment.parse(segments[-1].name).number if segments else start.number
    stop_number = max(stop_number, backup.wal_stop_segment.number)
    by_number: dict[int, ArchivedSegment] = {}
    for seg in segments:
        parsed = Segment.parse(seg.name)
        if parsed.timeline < backup.timeline or not start.number <= parsed.number <= stop_number:
            continue
        current = by_number.get(parsed.number)
        if current is None or Segment.parse(current.name).timeline < parsed.timeline:
            by_number[parsed.number] = seg
    missing = [Segment(backup.timeline, n).name for n in range(start.number, stop_number + 1)
               if n not in by_number]
    chosen = [by_number[n] for n in sorted(by_number)]
    timeline = max([Segment.parse(s.name).timeline for s in chosen] + [backup.timeline])
    # END SOLUTION
    disk = backup.data_size + len(chosen) * SEGMENT_SIZE
    return RestorePlan(backup=backup, target=target, timeline=timeline,
                       segments=[s.name for s in chosen], missing=missing,
                       history_files=histories, disk_needed=disk,
                       conflicts=list(conflicts or []), expected_seconds=last_restore_seconds,
                       target_lsn=target_lsn)
