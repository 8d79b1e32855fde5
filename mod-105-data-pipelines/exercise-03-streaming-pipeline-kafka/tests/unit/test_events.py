"""The synthetic event stream and its planted defects."""

from __future__ import annotations

from collections import Counter

import pytest

from streamml.events import EventPlan, generate, user_propensity


@pytest.mark.points(2)
def test_plan_counts_and_defect_shapes() -> None:
    plan = EventPlan(events=200, users=5, start_ms=1_000_000, spacing_ms=100, late=3,
                     duplicates=4, poison=2, unknown_schema=2, invalid=4, out_of_order=10)
    out = generate(plan)
    kinds = Counter(o.kind for o in out)
    assert kinds == {"event": 200, "late": 3, "duplicate": 4, "poison": 2,
                     "unknown_schema": 2, "invalid": 4}
    originals = {o.event["event_id"] for o in out if o.kind == "event" and o.event}
    assert all(o.event and o.event["event_id"] in originals
               for o in out if o.kind == "duplicate")
    last = plan.start_ms + 199 * plan.spacing_ms
    assert all(o.event and o.event["event_time"] == last - plan.late_by_ms
               for o in out if o.kind == "late")
    assert all(o.raw and o.raw[:1] != b"\x00" for o in out if o.kind == "poison")
    assert all(o.raw and o.raw[:5] == b"\x00" + (999_999).to_bytes(4, "big")
               for o in out if o.kind == "unknown_schema")
    assert all(o.key == o.event["user_id"] for o in out if o.kind == "event" and o.event)
    # Defects come after the first half of the stream (late events need a moved watermark).
    first_defect = next(i for i, o in enumerate(out) if o.kind != "event")
    assert first_defect >= 100


@pytest.mark.points(1)
def test_generation_is_deterministic_and_users_differ() -> None:
    plan = EventPlan(events=50, seed=11)
    assert generate(plan) == generate(plan)
    assert generate(plan) != generate(EventPlan(events=50, seed=12))
    assert user_propensity("user-0001") != user_propensity("user-0002")
    assert user_propensity("user-0001") == user_propensity("user-0001")
