"""Traffic traces: a regular series of requests per second, read from CSV, generated with a
seed, or exported from Prometheus.

CSV format (what `trace generate` and `trace export` write):

    timestamp,requests_per_second
    2026-01-05T00:00:00Z,41.2
    2026-01-05T00:01:00Z,40.7

Timestamps are ISO-8601 or Unix seconds; the step is taken from the first two rows and every
later row must follow it (a gap or a repeat is an error naming the line), values must be
finite numbers >= 0.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np

from autoscale.errors import InputError

HEADER = ("timestamp", "requests_per_second")
EPOCH = datetime(2026, 1, 5, tzinfo=UTC).timestamp()  # a Monday: generated traces start here


@dataclass(frozen=True)
class Trace:
    start: float  # Unix seconds of the first sample
    step: float  # seconds between samples
    values: tuple[float, ...]
    name: str = "trace"

    def __post_init__(self) -> None:
        if self.step <= 0:
            raise InputError(f"{self.name}: step must be > 0")
        if len(self.values) < 2:
            raise InputError(f"{self.name}: a trace needs at least two samples")

    @property
    def duration(self) -> float:
        return self.step * len(self.values)

    def at(self, t: float) -> float:
        """The rate in force at time t (seconds since start); the last value holds."""
        index = min(int(t // self.step), len(self.values) - 1)
        return self.values[max(index, 0)]

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(HEADER)
        for i, value in enumerate(self.values):
            stamp = datetime.fromtimestamp(self.start + i * self.step, tz=UTC)
            writer.writerow([stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{value:.3f}"])
        return buf.getvalue()


def _parse_time(text: str, where: str) -> float:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: timestamp {text!r} is neither ISO-8601 nor Unix seconds"
                         ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def parse_csv(text: str, name: str = "trace") -> Trace:
    """Parse and validate a trace; every problem names the file and line."""
    # BEGIN SOLUTION
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputError(f"{name}: empty trace")
    header = tuple(cell.strip() for cell in rows[0])
    if header != HEADER:
        raise InputError(f"{name}:1: expected header {','.join(HEADER)!r}, got "
                         f"{','.join(header)!r}")
    times: list[float] = []
    values: list[float] = []
    step: float | None = None
    for lineno, row in enumerate(rows[1:], start=2):
        where = f"{name}:{lineno}"
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2:
            raise InputError(f"{where}: expected 2 columns, got {len(row)}")
        t = _parse_time(row[0], where)
        try:
            value = float(row[1])
        except ValueError:
            raise InputError(f"{where}: requests_per_second {row[1].strip()!r} is not a "
                             f"number") from None
        if not math.isfinite(value):
            raise InputError(f"{where}: requests_per_second must be finite (got {row[1]!r})")
        if value < 0:
            raise InputError(f"{where}: requests_per_second must be >= 0 (got {value:g})")
        if times:
            delta = t - times[-1]
            if step is None:
                if delta <= 0:
                    raise InputError(f"{where}: timestamps must increase")
                step = delta
            elif not math.isclose(delta, step, rel_tol=1e-6):
                kind = "gap" if delta > step else "irregular step"
                raise InputError(f"{where}: {kind} of {delta:g} s after the previous sample "
                                 f"(step is {step:g} s)")
        times.append(t)
        values.append(value)
    if len(values) < 2 or step is None:
        raise InputError(f"{name}: a trace needs at least two samples")
    return Trace(times[0], step, tuple(values), name)
    # END SOLUTION


def load(path: Path) -> Trace:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read trace ({exc.strerror})") from exc
    return parse_csv(text, Path(path).name)


class Pattern(StrEnum):
    DIURNAL = "diurnal"
    SPIKE = "spike"
    RAMP = "ramp"


def _diurnal_shape(hours: np.ndarray) -> np.ndarray:
    """0 at 04:00, 1 at 16:00, smooth in between."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * (hours - 4) / 24)) ** 1.5


def generate(pattern: Pattern, days: float = 3, step: float = 60, base: float = 40.0,
             peak: float = 400.0, noise: float = 0.05, seed: int = 7,
             spikes: Sequence[float] = (9.0, 18.5), spike_minutes: float = 25.0,
             start: float = EPOCH) -> Trace:
    """A seeded synthetic trace.

    diurnal: base at 04:00 rising to peak at 16:00; spike: a flatter day (peak / 3) with
    daily bursts to `peak` at the hours in `spikes`, rising within two minutes (the traffic
    that defeats reactive scaling); ramp: base to peak linearly over the whole trace.
    """
    n = round(days * 86400 / step)
    if n < 2:
        raise InputError("the trace would have fewer than two samples")
    if base < 0 or peak < base:
        raise InputError("need 0 <= base <= peak")
    rng = np.random.default_rng(seed)
    t = np.arange(n) * step
    hours = (t / 3600.0) % 24
    if pattern is Pattern.DIURNAL:
        rate = base + (peak - base) * _diurnal_shape(hours)
    elif pattern is Pattern.SPIKE:
        rate = base + (peak / 3 - base) * _diurnal_shape(hours)
        for hour in spikes:
            minutes = (hours - hour) * 60
            rise = np.clip(minutes / 2.0, 0, 1)
            fall = np.clip((spike_minutes - minutes) / 5.0, 0, 1)
            burst = np.where((minutes >= 0) & (minutes <= spike_minutes), rise * fall, 0.0)
            rate = np.maximum(rate, base + (peak - base) * burst)
    else:
        rate = base + (peak - base) * t / t[-1]
    rate = rate * (1 + noise * rng.standard_normal(n))
    return Trace(start, step, tuple(float(max(v, 0.0)) for v in np.round(rate, 3)),
                 pattern.value)


def from_series(points: Sequence[tuple[float, float]], name: str = "prometheus") -> Trace:
    """A trace from (timestamp, value) pairs of one Prometheus range query."""
    if len(points) < 2:
        raise InputError(f"{name}: the query returned fewer than two samples")
    step = points[1][0] - points[0][0]
    for (t0, _), (t1, _) in itertools.pairwise(points):
        if not math.isclose(t1 - t0, step, rel_tol=1e-6):
            raise InputError(f"{name}: gap in the series at {datetime.fromtimestamp(t0, UTC)}")
    return Trace(points[0][0], step, tuple(max(v, 0.0) for _, v in points), name)
