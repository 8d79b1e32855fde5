"""Forecasters: seasonal-naive and Holt-Winters on bucket peaks, the look-ahead window."""

from __future__ import annotations

import numpy as np
import pytest

from autoscale.errors import PolicyError
from autoscale.policies import predictive


def season(period: int, days: int, noise: float = 0.0, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = 100 + 50 * np.sin(np.arange(period) * 2 * np.pi / period)
    return np.tile(base, days) * (1 + noise * rng.standard_normal(period * days))


@pytest.mark.points(1)
def test_bucket_peaks() -> None:
    values = [1, 5, 2, 7, 3, 3, 9]
    assert predictive.bucket_peaks(values, 60, 180).tolist() == [5, 7]


@pytest.mark.points(2)
def test_seasonal_naive_repeats_yesterday_scaled_by_level() -> None:
    history = season(24, 2)
    forecast = predictive.seasonal_naive(history, 24, 6)
    assert forecast == pytest.approx(history[24:30])
    grown = np.concatenate([history[:24], history[24:] * 1.2])
    ahead = predictive.seasonal_naive(grown, 24, 3)
    assert ahead == pytest.approx(history[24:27] * 1.2 * 1.2)  # level ratio 1.2 applied
    with pytest.raises(PolicyError, match="one season"):
        predictive.seasonal_naive(history[:10], 24, 3)


@pytest.mark.points(2)
def test_holt_winters_recovers_a_daily_pattern() -> None:
    history = season(24, 3, noise=0.02)
    forecast = predictive.holt_winters(history, 24, 24)
    truth = season(24, 1)
    assert np.max(np.abs(forecast - truth) / truth) < 0.1
    with pytest.raises(PolicyError, match="two seasons"):
        predictive.holt_winters(history[:30], 24, 3)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_forecaster_looks_ahead_by_the_lead() -> None:
    """A spike every day at bucket 10 of 24 (1 h buckets); at the start of bucket 9 a 30-min
    lead sees only bucket 9, a 90-min lead reaches the spike."""
    day = np.full(24 * 60, 10.0)
    day[10 * 60: 11 * 60] = 100.0
    spec = predictive.ForecastSpec(predictive.Method.SEASONAL_NAIVE, 3600, 86400, 1800)
    model = predictive.Forecaster(spec, 60)
    model.extend(list(day) + list(day[: 9 * 60]))
    assert model.peak_ahead(1800) == pytest.approx(10.0)
    assert model.peak_ahead(5400) == pytest.approx(100.0)
    assert model.method_used is predictive.Method.SEASONAL_NAIVE
    empty = predictive.Forecaster(spec, 60)
    empty.extend([1.0] * 100)
    assert empty.peak_ahead() is None  # less than a season: no forecast


@pytest.mark.points(1)
def test_replicas_for_rate() -> None:
    assert predictive.replicas_for_rate(350, 25, 70) == 20
    with pytest.raises(PolicyError):
        predictive.replicas_for_rate(1, 0, 70)
