from __future__ import annotations

from datetime import timedelta

import pytest

from drkit.catalog import Catalog
from drkit.errors import NotFoundError
from drkit.lsn import Segment
from drkit.restore_plan import ArchivedSegment, RestoreTarget, plan_restore
from tests.unit.helpers import BASE, catalog, entry


def archive(numbers: list[int], timeline: int = 1, start_day: float = 0.0
            ) -> list[ArchivedSegment]:
    return [ArchivedSegment(Segment(timeline, n).name, 100,
                            BASE + timedelta(days=start_day, hours=n)) for n in numbers]


def two_backups() -> Catalog:
    """Backups on day 0 (WAL from segment 2) and day 1 (from segment 10)."""
    return catalog(entry(0, segment=2), entry(1, segment=10))


@pytest.mark.points(3)
def test_latest_uses_newest_backup_and_every_segment_after_it() -> None:
    two = two_backups()
    plan = plan_restore(two, archive(list(range(2, 20))), RestoreTarget("latest"))
    assert plan.backup.backup_id == "b001"
    assert plan.segments[0] == Segment(1, 10).name and plan.segments[-1] == Segment(1, 19).name
    assert plan.chain_complete and plan.timeline == 1
    assert plan.disk_needed == 1000 + 10 * 16 * 1024 * 1024


@pytest.mark.points(3)
def test_time_target_picks_the_backup_before_it() -> None:
    two = two_backups()
    when = BASE + timedelta(hours=12)
    plan = plan_restore(two, archive(list(range(2, 20))), RestoreTarget("time", "t", when))
    assert plan.backup.backup_id == "b000"
    before = BASE - timedelta(days=1)
    with pytest.raises(NotFoundError, match="before the oldest backup"):
        plan_restore(two, archive(list(range(2, 20))), RestoreTarget("time", "x", before))
    after = BASE + timedelta(days=30)
    with pytest.raises(NotFoundError, match="after the last archived WAL"):
        plan_restore(two, archive(list(range(2, 20))), RestoreTarget("time", "y", after))


@pytest.mark.points(3)
def test_a_missing_segment_is_reported_not_hidden() -> None:
    two = two_backups()
    numbers = [n for n in range(2, 20) if n != 14]
    plan = plan_restore(two, archive(numbers), RestoreTarget("latest"))
    assert plan.missing == [Segment(1, 14).name] and not plan.chain_complete
    assert plan.as_dict()["chain_complete"] is False


@pytest.mark.points(2)
def test_lsn_and_name_targets() -> None:
    two = two_backups()
    cat = two.with_restore_point("before-drop", "0/D000000", BASE + timedelta(days=1, hours=2))
    plan = plan_restore(cat, archive(list(range(2, 20))), RestoreTarget("name", "before-drop"))
    assert plan.backup.backup_id == "b001" and plan.segments[-1] == Segment(1, 13).name
    with pytest.raises(NotFoundError, match="no restore point"):
        plan_restore(cat, archive(list(range(2, 20))), RestoreTarget("name", "nope"))
    with pytest.raises(NotFoundError, match="after the last archived WAL"):
        plan_restore(cat, archive(list(range(2, 20))), RestoreTarget("lsn", "0/FF000000"))
    with pytest.raises(NotFoundError, match="before the oldest backup"):
        plan_restore(cat, archive(list(range(2, 20))), RestoreTarget("lsn", "0/1000000"))


@pytest.mark.points(3)
@pytest.mark.hidden
def test_timeline_switch_prefers_the_newer_timeline() -> None:
    two = two_backups()
    segments = archive(list(range(10, 16))) + archive([15, 16, 17], timeline=2) + [
        ArchivedSegment("00000002.history", 40, BASE + timedelta(days=2))]
    plan = plan_restore(two, segments, RestoreTarget("latest"))
    assert plan.timeline == 2 and plan.chain_complete
    assert Segment(2, 15).name in plan.segments and Segment(1, 15).name not in plan.segments
    assert plan.history_files == ["00000002.history"]


@pytest.mark.points(1)
def test_empty_catalog_and_unknown_backup() -> None:
    two = two_backups()
    with pytest.raises(NotFoundError, match="no backups"):
        plan_restore(catalog(), [], RestoreTarget("latest"))
    with pytest.raises(NotFoundError, match="no backup 'zz'"):
        plan_restore(two, [], RestoreTarget("latest"), backup_id="zz")
