from pathlib import Path

import pytest

from mltrack.audit import AuditLog
from mltrack.history import (
    HistoryEvent,
    champion_at,
    events_from_tags,
    next_seq,
    rollback_target,
    timeline,
)


def _events() -> list[HistoryEvent]:
    return [
        HistoryEvent(1, "promote", "1", None, "2026-01-01T00:00:00", "ann", "first"),
        HistoryEvent(2, "promote", "3", "1", "2026-01-05T00:00:00", "bob", "better"),
        HistoryEvent(3, "promote", "4", "3", "2026-01-09T00:00:00", "ann", "retrain"),
    ]


@pytest.mark.points(4)
def test_tags_round_trip_and_order() -> None:
    events = _events()
    tags = dict(event.tag() for event in reversed(events))
    tags["unrelated"] = "x"
    assert events_from_tags(tags) == events
    assert next_seq(events) == 4
    assert next_seq([]) == 1


@pytest.mark.points(5)
def test_timeline_intervals() -> None:
    intervals = timeline(_events())
    assert [(i.version, i.since, i.until) for i in intervals] == [
        ("1", "2026-01-01T00:00:00", "2026-01-05T00:00:00"),
        ("3", "2026-01-05T00:00:00", "2026-01-09T00:00:00"),
        ("4", "2026-01-09T00:00:00", None),
    ]
    assert champion_at(_events(), "2025-12-31T00:00:00") is None
    assert champion_at(_events(), "2026-01-06T12:00:00") == "3"


@pytest.mark.points(6)
def test_rollback_walks_back_through_promotions() -> None:
    events = _events()
    assert rollback_target(events, "4") == "3"
    events.append(HistoryEvent(4, "rollback", "3", "4", "2026-01-10T00:00:00", "ann", "bad"))
    assert rollback_target(events, "3") == "1"  # not back to 4
    assert rollback_target(events, "1") is None
    assert rollback_target(events, None) is None


@pytest.mark.points(4)
@pytest.mark.hidden
def test_audit_log_appends_and_tolerates_torn_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a" / "audit.jsonl")
    log.append({"model": "m", "event": "promotion.promoted"})
    log.append({"model": "other", "event": "rollback"})
    with log.path.open("a") as handle:
        handle.write('{"model": "m", "ev')  # crash mid-write
    assert [r["event"] for r in log.read()] == ["promotion.promoted", "rollback"]
    assert len(log.read("m")) == 1
    log.append({"model": "m", "event": "x"})  # appends never rewrite earlier lines
    assert log.path.read_text().startswith('{"event": "promotion.promoted"')
