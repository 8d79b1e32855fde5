"""Cost anomalies per (provider, service, account), with a root cause.

Why this detector (after AWS Cost Anomaly Detection's design, but explainable):
* the baseline of a day is the same weekday in the previous weeks, so a Monday batch job
  or a quiet weekend is not an anomaly;
* the spread is the median absolute deviation (MAD), and the score the robust z-score
  0.6745 * (x - median) / MAD: one earlier spike in the baseline does not hide the next;
* a minimum dollar impact keeps a 300% jump from $0.10 to $0.40 out of anyone's inbox;
* only increases are flagged: savings are not incidents.
The root cause compares the anomalous day with its baseline days, per region and per
resource, and names the one whose increase explains most of the jump. Pure: no I/O.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

SeriesKey = tuple[str, str, str]


@dataclass(frozen=True)
class DetectorConfig:
    baseline_weeks: int = 4
    min_baseline_points: int = 3
    z_threshold: float = 3.5
    min_impact: float = 50.0  # in the reporting currency, per day
    mad_floor_ratio: float = 0.02  # assume at least 2% noise when the baseline is flat


@dataclass
class Anomaly:
    day: date
    provider: str
    service: str
    account: str
    actual: float
    expected: float
    z_score: float
    root_cause: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> SeriesKey:
        return (self.provider, self.service, self.account)

    @property
    def impact(self) -> float:
        return self.actual - self.expected

    def baseline_days(self, weeks: int) -> list[date]:
        return [self.day - timedelta(weeks=w) for w in range(1, weeks + 1)]

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "provider": self.provider,
                "service": self.service, "account": self.account,
                "actual": round(self.actual, 2), "expected": round(self.expected, 2),
                "impact": round(self.impact, 2), "z_score": round(self.z_score, 2),
                "root_cause": self.root_cause}


def robust_z(value: float, baseline: list[float], floor_ratio: float) -> tuple[float, float]:
    """(median of baseline, robust z-score of value against it)."""
    # BEGIN SOLUTION: median, MAD with a floor, then 0.6745 * (x - median) / MAD
    median = statistics.median(baseline)
    mad = statistics.median(abs(b - median) for b in baseline)
    mad = max(mad, floor_ratio * abs(median), 1e-9)
    return median, 0.6745 * (value - median) / mad
    # END SOLUTION


def detect_series(key: SeriesKey, daily: dict[date, float], days: list[date],
                  config: DetectorConfig) -> list[Anomaly]:
    """Anomalies of one series on each of `days` (missing days count as zero spend)."""
    # BEGIN SOLUTION: same-weekday baseline, robust z-score with MAD, minimum dollar impact
    found = []
    for day in days:
        baseline_days = [day - timedelta(weeks=w) for w in range(1, config.baseline_weeks + 1)]
        first = min(daily) if daily else day
        baseline = [daily.get(d, 0.0) for d in baseline_days if d >= first]
        if len(baseline) < config.min_baseline_points:
            continue
        value = daily.get(day, 0.0)
        expected, z = robust_z(value, baseline, config.mad_floor_ratio)
        if z >= config.z_threshold and value - expected >= config.min_impact:
            found.append(Anomaly(day, key[0], key[1], key[2], value, expected, z))
    return found
    # END SOLUTION


def detect(series: dict[SeriesKey, dict[date, float]], start: date, end: date,
           config: DetectorConfig | None = None) -> list[Anomaly]:
    """Anomalies on days in [start, end) over all series, largest impact first."""
    cfg = config or DetectorConfig()
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    found: list[Anomaly] = []
    for key in sorted(series):
        found.extend(detect_series(key, series[key], days, cfg))
    return sorted(found, key=lambda a: (-a.impact, a.day, a.key))


def root_cause(anomaly: Anomaly, breakdown: dict[str, dict[str, dict[date, float]]],
               baseline_days: list[date]) -> dict[str, Any]:
    """Per dimension (region, resource): the member whose increase explains most of it.

    Increase of a member = its cost on the day - its median over the baseline days; its
    share is that increase over the anomaly's total increase (can exceed 1 when another
    member fell at the same time).
    """
    # BEGIN SOLUTION: per dimension, the member with the largest increase over baseline
    cause: dict[str, Any] = {"account": anomaly.account}
    total_increase = anomaly.impact
    for dim, members in breakdown.items():
        best_name, best_increase = None, 0.0
        for name, by_day in members.items():
            base = statistics.median([by_day.get(d, 0.0) for d in baseline_days] or [0.0])
            increase = by_day.get(anomaly.day, 0.0) - base
            if best_name is None or increase > best_increase:
                best_name, best_increase = name, increase
        if best_name is not None and best_increase > 0:
            cause[dim] = best_name
            cause[f"{dim}_increase"] = round(best_increase, 2)
            cause[f"{dim}_share"] = (round(best_increase / total_increase, 3)
                                     if total_increase > 0 else None)
    return cause
    # END SOLUTION


def fixed_threshold(daily: dict[date, float], days: list[date], ratio: float = 1.5,
                    min_impact: float = 50.0) -> list[date]:
    """The naive rule a detector is compared with: flag a day above ratio x yesterday."""
    flagged = []
    for day in days:
        previous = daily.get(day - timedelta(days=1), 0.0)
        value = daily.get(day, 0.0)
        if value > ratio * previous and value - previous >= min_impact:
            flagged.append(day)
    return flagged
