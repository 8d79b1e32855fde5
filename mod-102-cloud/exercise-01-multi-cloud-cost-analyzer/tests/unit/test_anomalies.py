"""Planted anomalies are found with their root cause; clean and seasonal series are not."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from costwatch.anomalies import Anomaly, DetectorConfig, detect, root_cause

START = date(2026, 3, 2)  # a Monday
KEY = ("AWS", "EC2", "111")


def seasonal(days: int = 63, seed: int = 1, noise: float = 0.03) -> dict[date, float]:
    rng = random.Random(seed)
    out = {}
    for i in range(days):
        day = START + timedelta(days=i)
        base = {0: 500.0, 5: 250.0, 6: 240.0}.get(day.weekday(), 400.0)
        out[day] = base * (1 + rng.gauss(0, noise))
    return out


@pytest.mark.points(4)
def test_planted_spike_is_found() -> None:
    series = seasonal()
    spike_day = START + timedelta(days=50)
    series[spike_day] += 600.0
    found = detect({KEY: series}, START + timedelta(days=35), START + timedelta(days=63))
    assert [a.day for a in found] == [spike_day]
    assert found[0].impact == pytest.approx(600.0, rel=0.1)


@pytest.mark.points(3)
def test_clean_seasonal_series_raises_none() -> None:
    series = {("AWS", f"svc{i}", "111"): seasonal(seed=i) for i in range(20)}
    assert detect(series, START + timedelta(days=28), START + timedelta(days=63)) == []


@pytest.mark.hidden
def test_small_dollar_spike_is_ignored() -> None:
    series = {START + timedelta(days=i): 1.0 for i in range(63)}
    series[START + timedelta(days=50)] = 10.0  # +900%, but $9
    assert detect({KEY: series}, START + timedelta(days=28), START + timedelta(days=63)) == []
    loud = DetectorConfig(min_impact=5.0)
    assert len(detect({KEY: series}, START + timedelta(days=28), START + timedelta(days=63),
                      loud)) == 1


@pytest.mark.points(3)
def test_root_cause_names_region_and_resource() -> None:
    day = START + timedelta(days=49)
    baseline_days = [day - timedelta(weeks=w) for w in range(1, 5)]
    breakdown = {
        "region": {"us-east-1": dict.fromkeys([*baseline_days, day], 300.0),
                   "eu-west-1": {**dict.fromkeys(baseline_days, 100.0), day: 700.0}},
        "resource": {"i-a": dict.fromkeys([*baseline_days, day], 300.0),
                     "i-b": {**dict.fromkeys(baseline_days, 100.0), day: 650.0},
                     "i-c": {day: 50.0}},
    }
    anomaly = Anomaly(day, *KEY, actual=1000.0, expected=400.0, z_score=9.0)
    cause = root_cause(anomaly, breakdown, baseline_days)
    assert cause["account"] == "111"
    assert cause["region"] == "eu-west-1" and cause["region_share"] == 1.0
    assert cause["resource"] == "i-b" and cause["resource_increase"] == 550.0
