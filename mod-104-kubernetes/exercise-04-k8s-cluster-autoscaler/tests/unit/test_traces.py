"""Trace parsing: every malformed input is one error naming the line."""

from __future__ import annotations

import pytest

from autoscale import traces
from autoscale.errors import InputError
from tests.helpers import EXAMPLES

GOOD = "timestamp,requests_per_second\n0,1\n60,2\n120,3.5\n"


@pytest.mark.points(1)
def test_parse_unix_and_iso_timestamps() -> None:
    trace = traces.parse_csv(GOOD)
    assert (trace.start, trace.step, trace.values) == (0.0, 60.0, (1.0, 2.0, 3.5))
    iso = traces.parse_csv("timestamp,requests_per_second\n2026-01-05T00:00:00Z,1\n"
                           "2026-01-05T00:00:30Z,2\n")
    assert iso.step == 30 and iso.start == traces.EPOCH
    assert trace.at(130) == 3.5 and trace.at(10_000) == 3.5


@pytest.mark.points(1)
@pytest.mark.parametrize(("text", "message"), [
    ("timestamp,requests_per_second\n0,1\n60,2\n240,3\n", "t.csv:4: gap of 180 s"),
    ("timestamp,requests_per_second\n0,1\n60,-2\n", "t.csv:3: requests_per_second must be >= 0"),
    ("timestamp,requests_per_second\n0,1\n60,lots\n", "t.csv:3: requests_per_second 'lots' is "
                                                      "not a number"),
    ("timestamp,requests_per_second\n0,1\n60,nan\n", "t.csv:3: requests_per_second must be "
                                                     "finite"),
    ("time,rps\n0,1\n", "t.csv:1: expected header"),
    ("timestamp,requests_per_second\nyesterday,1\n", "t.csv:2: timestamp 'yesterday'"),
    ("timestamp,requests_per_second\n0,1\n0,1\n", "t.csv:3: timestamps must increase"),
    ("timestamp,requests_per_second\n0,1\n", "needs at least two samples"),
    ("timestamp,requests_per_second\n0,1,2\n", "t.csv:2: expected 2 columns"),
    ("", "empty trace"),
])
def test_bad_traces_name_the_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        traces.parse_csv(text, "t.csv")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.points(1)
def test_generators_are_seeded_and_shipped_traces_match() -> None:
    a = traces.generate(traces.Pattern.SPIKE, days=1, seed=3)
    b = traces.generate(traces.Pattern.SPIKE, days=1, seed=3)
    c = traces.generate(traces.Pattern.SPIKE, days=1, seed=4)
    assert a == b and a != c
    for name in ("spike", "diurnal"):
        shipped = traces.load(EXAMPLES / "traces" / f"{name}.csv")
        assert shipped.values == traces.generate(traces.Pattern(name), days=3).values


@pytest.mark.points(1)
def test_spike_shape() -> None:
    day = traces.generate(traces.Pattern.SPIKE, days=1, noise=0.0)
    at = {int(t): v for t, v in zip(range(0, 86400, 60), day.values, strict=True)}
    assert at[9 * 3600 + 10 * 60] == pytest.approx(400)  # inside the 09:00 burst
    assert at[9 * 3600 - 60] < 150  # a minute before it
    ramp = traces.generate(traces.Pattern.RAMP, days=1, noise=0.0, base=10, peak=20)
    assert ramp.values[0] == 10 and ramp.values[-1] == 20
    round_trip = traces.parse_csv(day.to_csv())
    assert round_trip.values == pytest.approx(day.values, abs=1e-3)
