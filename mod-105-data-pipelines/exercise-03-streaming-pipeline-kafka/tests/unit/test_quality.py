"""Quality rules and bounded de-duplication."""

from __future__ import annotations

from typing import Any

import pytest

from streamml.quality import Deduplicator, QualityChecker, default_rules

NOW = 1_750_000_000_000


def checker(capacity: int = 100) -> QualityChecker:
    return QualityChecker(default_rules(10_000.0, 300_000, lambda: NOW), Deduplicator(capacity))


def event(**changes: Any) -> dict[str, Any]:
    base = {"event_id": "e1", "user_id": "u1", "event_time": NOW - 1000, "action": "view",
            "amount": 0.0}
    return base | changes


@pytest.mark.parametrize(("changes", "reason"), [
    ({"user_id": ""}, "user_id_present"),
    ({"user_id": "   "}, "user_id_present"),
    ({"event_id": ""}, "event_id_present"),
    ({"amount": -1.0}, "amount_in_range"),
    ({"amount": 10_000.5}, "amount_in_range"),
    ({"action": "purchase", "amount": 0.0}, "purchase_has_amount"),
    ({"event_time": NOW + 301_000}, "event_time_plausible"),
    ({"event_time": 0}, "event_time_plausible"),
])
@pytest.mark.points(1)
def test_each_rule_names_its_failure(changes: dict[str, Any], reason: str) -> None:
    c = checker()
    verdict = c.check(event(**changes))
    assert (verdict.ok, verdict.reason) == (False, reason)
    assert c.counts[reason] == 1


@pytest.mark.points(2)
def test_duplicates_are_caught_after_the_rules_pass() -> None:
    c = checker()
    assert c.check(event()).ok
    assert c.check(event(event_time=NOW + 299_000, action="purchase", amount=3.0)).ok is False
    assert c.counts == {"passed": 1, "duplicate": 1}
    # A rule failure does not record the id: the corrected event may still pass.
    assert c.check(event(event_id="e2", amount=-5)).reason == "amount_in_range"
    assert c.check(event(event_id="e2")).ok


@pytest.mark.points(2)
@pytest.mark.hidden
def test_dedup_memory_is_bounded_lru_and_forget_undoes() -> None:
    d = Deduplicator(capacity=3)
    for name in "abc":
        assert d.seen(name) is False
    assert d.seen("a") is True  # refreshes a
    assert d.seen("d") is False  # evicts b (least recently used)
    assert len(d) == 3
    assert d.seen("b") is False and d.seen("a") is True
    d.forget("a")
    assert d.seen("a") is False
