"""Champion history: which version was champion when (the mlflow#2169 request).

Every alias move is one event. Events are stored on the tracking server as registered-model
tags `mltrack.history.<seq>` (so every client sees the same history) and appended to the
local audit log. This module is pure: encode/decode events, build the timeline, pick the
rollback target.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

TAG_PREFIX = "mltrack.history."
Action = Literal["promote", "rollback"]


@dataclass(frozen=True)
class HistoryEvent:
    seq: int
    action: Action
    version: str  # the version that became champion
    previous: str | None  # the champion it replaced
    at: str  # ISO-8601 UTC
    by: str
    reason: str
    eval_run_id: str | None = None

    def tag(self) -> tuple[str, str]:
        return f"{TAG_PREFIX}{self.seq:06d}", json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HistoryEvent:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)


@dataclass(frozen=True)
class ChampionInterval:
    version: str
    since: str
    until: str | None  # None: still champion
    action: Action
    by: str
    reason: str


def events_from_tags(tags: dict[str, str]) -> list[HistoryEvent]:
    """Decode the history tags of a registered model, oldest first."""
    # BEGIN SOLUTION: decode the mltrack.history.* tags, ordered by seq
    events = [HistoryEvent.from_json(value) for key, value in tags.items()
              if key.startswith(TAG_PREFIX)]
    return sorted(events, key=lambda event: event.seq)
    # END SOLUTION


def next_seq(events: list[HistoryEvent]) -> int:
    return events[-1].seq + 1 if events else 1


def timeline(events: list[HistoryEvent]) -> list[ChampionInterval]:
    """Consecutive intervals: each event opens one and closes the one before."""
    # BEGIN SOLUTION: one interval per event, closed by the next event
    intervals: list[ChampionInterval] = []
    for index, event in enumerate(events):
        until = events[index + 1].at if index + 1 < len(events) else None
        intervals.append(ChampionInterval(event.version, event.at, until, event.action,
                                          event.by, event.reason))
    return intervals
    # END SOLUTION


def champion_at(events: list[HistoryEvent], when: str) -> str | None:
    """The version that was champion at ISO time `when` (None before the first promotion)."""
    # BEGIN SOLUTION: version of the last event at or before when
    current = None
    for event in events:
        if event.at <= when:
            current = event.version
    return current
    # END SOLUTION


def rollback_target(events: list[HistoryEvent], current: str | None) -> str | None:
    """The champion before `current`: the `previous` of the promotion that made it champion.

    Rollbacks walk back through promotions like a stack: after rolling back from v3 to v2,
    the next rollback goes to whatever v2 replaced when it was promoted.
    """
    # BEGIN SOLUTION: what the promotion of current replaced
    if current is None:
        return None
    for event in reversed(events):
        if event.action == "promote" and event.version == current:
            return event.previous
    return None
    # END SOLUTION
