"""Retention: which backups to keep (N full plus a GFS schedule) and which WAL may go.

The one rule that must never break: WAL that a kept backup needs (from its first segment
onwards, for point-in-time recovery up to now) is never deleted. So WAL is pruned only
below the oldest kept backup's first segment, whatever the schedule says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field

from drkit.catalog import BackupEntry
from drkit.lsn import Segment, is_segment_name


class RetentionPolicy(BaseModel):
    """Keep the newest `full` backups, plus the newest backup of each of the last `daily`
    days, `weekly` ISO weeks and `monthly` months (grandfather-father-son)."""

    full: int = Field(default=2, ge=1)
    daily: int = Field(default=7, ge=0)
    weekly: int = Field(default=4, ge=0)
    monthly: int = Field(default=6, ge=0)
    lock_days: int = Field(default=7, ge=0)  # S3 Object Lock COMPLIANCE days on the DR bucket


@dataclass
class RetentionPlan:
    keep: dict[str, list[str]]  # backup id -> reasons
    delete: list[str]
    wal_delete: list[str]
    wal_keep_from: str | None
    notes: list[str] = field(default_factory=list)


def _bucket_keys(when: datetime) -> tuple[str, str, str]:
    iso = when.isocalendar()
    return (when.strftime("%Y-%m-%d"), f"{iso.year}-W{iso.week:02d}", when.strftime("%Y-%m"))


def plan_retention(backups: list[BackupEntry], wal_names: list[str],
                   policy: RetentionPolicy) -> RetentionPlan:
    """Decide what to keep and delete; pure, so it is easy to test and to dry-run."""
    # BEGIN SOLUTION: newest N, newest per day/week/month slot; WAL below oldest kept start
    ordered = sorted(backups, key=lambda b: b.finished_at, reverse=True)
    keep: dict[str, list[str]] = {}
    for backup in ordered[: policy.full]:
        keep.setdefault(backup.backup_id, []).append("newest full")
    for index, (label, limit) in enumerate((("daily", policy.daily), ("weekly", policy.weekly),
                                            ("monthly", policy.monthly))):
        seen: list[str] = []
        for backup in ordered:
            slot = _bucket_keys(backup.finished_at)[index]
            if slot in seen:
                continue
            if len(seen) >= limit:
                break
            seen.append(slot)
            keep.setdefault(backup.backup_id, []).append(f"{label} {slot}")
    delete = [b.backup_id for b in ordered if b.backup_id not in keep]
    kept = [b for b in ordered if b.backup_id in keep]
    if not kept:
        return RetentionPlan(keep, delete, [], None, ["no backups: WAL left alone"])
    oldest_start = min(b.wal_start_segment.number for b in kept)
    wal_delete = sorted(name for name in wal_names
                        if is_segment_name(name) and Segment.parse(name).number < oldest_start)
    keep_from = min(kept, key=lambda b: b.wal_start_segment.number).wal_start
    return RetentionPlan(keep, delete, wal_delete, keep_from)
    # END SOLUTION
