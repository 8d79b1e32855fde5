"""Data-quality rules and de-duplication: which events may enter the feature pipeline.

Pure: the quality stage (`validate.py`) decodes a message and asks `QualityChecker.check`;
a failing event goes to the dead-letter topic with the rule's name as its reason, so one bad
record never blocks its partition and every failure is counted per rule.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    """A named predicate: True means the event passes."""

    name: str
    description: str
    passes: Callable[[Event], bool]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # the DLQ reason: a rule name or "duplicate"
    detail: str = ""


def default_rules(max_amount: float, max_future_ms: int, now_ms: Callable[[], int]
                  ) -> list[Rule]:
    """The rules the pipeline enforces (names appear in metrics and DLQ headers)."""
    # BEGIN SOLUTION
    return [
        Rule("event_id_present", "event_id is a non-empty string",
             lambda e: bool(str(e.get("event_id") or "").strip())),
        Rule("user_id_present", "user_id is a non-empty string",
             lambda e: bool(str(e.get("user_id") or "").strip())),
        Rule("amount_in_range", f"0 <= amount <= {max_amount:g}",
             lambda e: 0.0 <= float(e.get("amount", 0.0)) <= max_amount),
        Rule("purchase_has_amount", "a purchase has amount > 0",
             lambda e: e.get("action") != "purchase" or float(e.get("amount", 0.0)) > 0),
        Rule("event_time_plausible", "0 < event_time <= now + allowed skew",
             lambda e: 0 < int(e.get("event_time", 0)) <= now_ms() + max_future_ms),
    ]
    # END SOLUTION


class Deduplicator:
    """Remembers the last `capacity` event ids (LRU): a repeat within them is a duplicate.

    Memory is bounded on purpose; ids older than the window pass again, which is why the
    sinks are idempotent as well (upserts, batch markers).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def seen(self, event_id: str) -> bool:
        """True if `event_id` was seen before; records it either way."""
        # BEGIN SOLUTION
        if event_id in self._seen:
            self._seen.move_to_end(event_id)
            return True
        self._seen[event_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return False
        # END SOLUTION

    def forget(self, event_id: str) -> None:
        """Undo `seen` for an event whose transaction was aborted."""
        self._seen.pop(event_id, None)

    def __len__(self) -> int:
        return len(self._seen)


@dataclass
class QualityChecker:
    """Rules first (the first failing rule names the reason), then de-duplication."""

    rules: list[Rule]
    dedup: Deduplicator
    counts: Counter[str] = field(default_factory=Counter)

    def check(self, event: Event) -> Verdict:
        # BEGIN SOLUTION
        for rule in self.rules:
            try:
                ok = rule.passes(event)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                self.counts[rule.name] += 1
                return Verdict(False, rule.name, rule.description)
        if self.dedup.seen(str(event["event_id"])):
            self.counts["duplicate"] += 1
            return Verdict(False, "duplicate", f"event_id {event['event_id']} seen before")
        self.counts["passed"] += 1
        return Verdict(True)
        # END SOLUTION
