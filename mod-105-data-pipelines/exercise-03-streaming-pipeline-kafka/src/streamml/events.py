"""Synthetic user events with the defects real streams have, on demand.

Pure: returns what to send, in send order; the producer adapter encodes and sends it. Users
have a fixed propensity (seeded), so features computed from their events predict their next
purchase and the model has something real to learn. Defects:

* late: an event whose event_time is far behind the stream (dropped by the watermark);
* out_of_order: neighbours swapped, within the watermark delay (must still be aggregated);
* duplicate: the same event (same event_id) sent again, as producer retries do;
* poison: bytes that are not Confluent-framed Avro at all;
* unknown_schema: Confluent framing with a schema id the registry does not know;
* invalid: well-formed Avro whose fields break the quality rules (negative amount, empty user).
"""

from __future__ import annotations

import random
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["event", "late", "duplicate", "poison", "unknown_schema", "invalid"]
ACTIONS = ("view", "click", "purchase")


@dataclass(frozen=True)
class Outgoing:
    """One message to send: an event (Avro-encoded by the producer) or raw bytes."""

    kind: Kind
    key: str
    event: dict[str, Any] | None = None
    raw: bytes | None = None


@dataclass(frozen=True)
class EventPlan:
    """How many of what to generate."""

    events: int = 1000
    users: int = 20
    start_ms: int = 1_750_000_000_000
    spacing_ms: int = 500
    late: int = 0
    late_by_ms: int = 600_000
    out_of_order: int = 0
    duplicates: int = 0
    poison: int = 0
    unknown_schema: int = 0
    invalid: int = 0
    seed: int = 7
    unknown_schema_id: int = 999_999
    extra: dict[str, Any] = field(default_factory=dict)


def user_propensity(user_id: str, seed: int = 7) -> float:
    """A user's purchase propensity in [0.02, 0.5]: stable per user and seed."""
    return random.Random(f"{seed}:{user_id}").uniform(0.02, 0.5)  # noqa: S311 - synthetic data


def make_event(rng: random.Random, user_id: str, event_time: int, seed: int) -> dict[str, Any]:
    """One valid event for `user_id` at `event_time` (ms)."""
    buy = user_propensity(user_id, seed)
    roll = rng.random()
    action = "purchase" if roll < buy else ("click" if roll < buy + 0.3 else "view")
    amount = round(rng.uniform(5, 200), 2) if action == "purchase" else 0.0
    return {"event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "user_id": user_id,
            "event_time": event_time, "action": action, "amount": amount}


def generate(plan: EventPlan) -> list[Outgoing]:
    """The messages of `plan` in send order (defects spread through the stream)."""
    rng = random.Random(plan.seed)  # noqa: S311 - reproducible synthetic data, not crypto
    users = [f"user-{i:04d}" for i in range(plan.users)]
    out: list[Outgoing] = []
    for index in range(plan.events):
        user = users[index % len(users)] if index < len(users) else rng.choice(users)
        event = make_event(rng, user, plan.start_ms + index * plan.spacing_ms, plan.seed)
        out.append(Outgoing("event", user, event))
    for _ in range(min(plan.out_of_order, max(len(out) - 1, 0))):
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    defects: list[Outgoing] = []
    originals = [o for o in out if o.event is not None]
    for _ in range(plan.duplicates):
        source = rng.choice(originals)
        defects.append(Outgoing("duplicate", source.key, dict(source.event or {})))
    for _ in range(plan.late):
        user = rng.choice(users)
        last = plan.start_ms + max(plan.events - 1, 0) * plan.spacing_ms
        defects.append(Outgoing("late", user,
                                make_event(rng, user, last - plan.late_by_ms, plan.seed)))
    for _ in range(plan.poison):
        defects.append(Outgoing("poison", rng.choice(users),
                                raw=b"\xde\xad" + rng.randbytes(12)))
    for _ in range(plan.unknown_schema):
        defects.append(Outgoing("unknown_schema", rng.choice(users),
                                raw=b"\x00" + struct.pack(">I", plan.unknown_schema_id)
                                + b"\x02\x00"))
    for number in range(plan.invalid):
        user = rng.choice(users)
        bad = make_event(rng, user, plan.start_ms + number, plan.seed)
        if number % 2:
            bad["user_id"] = ""
        else:
            bad["amount"] = -abs(bad["amount"]) - 1.0
        defects.append(Outgoing("invalid", user, bad))
    # Defects go after the middle of the stream (late events must come after the watermark
    # has moved), interleaved deterministically.
    middle = len(out) // 2
    for offset, item in enumerate(defects):
        position = middle + (offset * max(len(out) - middle, 1)) // max(len(defects), 1) + offset
        out.insert(min(position, len(out)), item)
    return out
