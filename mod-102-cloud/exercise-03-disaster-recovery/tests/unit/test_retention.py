from __future__ import annotations

import random

import pytest

from drkit.lsn import Segment
from drkit.retention import RetentionPolicy, plan_retention
from tests.unit.helpers import entry


def wal_for(backups: list) -> list[str]:  # type: ignore[type-arg]
    last = max(b.wal_stop_segment.number for b in backups) + 3
    return [Segment(1, n).name for n in range(1, last)] + ["00000002.history"]


@pytest.mark.points(3)
def test_keeps_newest_full_backups_and_deletes_the_rest() -> None:
    backups = [entry(i) for i in range(5)]
    plan = plan_retention(backups, wal_for(backups),
                          RetentionPolicy(full=2, daily=0, weekly=0, monthly=0))
    assert set(plan.keep) == {"b004", "b003"} and plan.delete == ["b002", "b001", "b000"]
    assert plan.wal_keep_from == backups[3].wal_start
    assert all(Segment.parse(n).number < backups[3].wal_start_segment.number
               for n in plan.wal_delete)
    assert "00000002.history" not in plan.wal_delete


@pytest.mark.points(3)
def test_gfs_keeps_one_per_day_week_month() -> None:
    # two backups a day for 70 days
    backups = [entry(i, days=i / 2, segment=2 + 4 * i) for i in range(140)]
    plan = plan_retention(backups, [], RetentionPolicy(full=1, daily=3, weekly=2, monthly=3))
    reasons = [r for rs in plan.keep.values() for r in rs]
    assert sum(r.startswith("daily") for r in reasons) == 3
    assert sum(r.startswith("weekly") for r in reasons) == 2
    assert sum(r.startswith("monthly") for r in reasons) == 3
    # the newest backup of each slot is the one kept
    newest = max(backups, key=lambda b: b.finished_at)
    assert "newest full" in plan.keep[newest.backup_id]
    assert any(r.startswith("daily") for r in plan.keep[newest.backup_id])
    assert len(plan.keep) + len(plan.delete) == 140


@pytest.mark.points(4)
@pytest.mark.hidden
def test_never_deletes_wal_a_kept_backup_needs_randomised() -> None:
    rng = random.Random(7)
    for _ in range(200):
        count = rng.randint(1, 15)
        backups = [entry(i, days=rng.uniform(0, 90), segment=rng.randint(2, 400))
                   for i in range(count)]
        policy = RetentionPolicy(full=rng.randint(1, 3), daily=rng.randint(0, 5),
                                 weekly=rng.randint(0, 3), monthly=rng.randint(0, 3))
        wal = [Segment(1, n).name for n in range(1, 410)]
        plan = plan_retention(backups, wal, policy)
        kept = [b for b in backups if b.backup_id in plan.keep]
        assert kept, "at least the newest backup is kept"
        deleted = set(plan.wal_delete)
        for backup in kept:
            for n in range(backup.wal_start_segment.number, 410):
                assert Segment(1, n).name not in deleted


@pytest.mark.points(1)
def test_policy_rejects_zero_full_backups() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        RetentionPolicy(full=0)
