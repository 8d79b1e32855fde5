"""Statistics against synthetic timings whose answers are known in closed form."""

import math

import numpy as np
import pytest

from mlbench.stats import (
    bootstrap_ci,
    coefficient_of_variation,
    compare_samples,
    summarize,
    tukey_outliers,
)


@pytest.mark.points(4)
def test_summary_of_1_to_100_matches_closed_form() -> None:
    s = summarize(list(range(1, 101)))
    assert s.n == 100
    assert s.mean == pytest.approx(50.5)
    assert s.median == pytest.approx(50.5)
    # numpy's default (linear) percentile: 1 + 0.95 * 99
    assert s.p95 == pytest.approx(95.05)
    assert s.p90 == pytest.approx(90.1)
    assert s.p99 == pytest.approx(99.01)
    assert s.stdev == pytest.approx(math.sqrt(100 * 101 / 12))  # sample stdev of 1..n
    assert s.min == 1 and s.max == 100
    assert s.cv == pytest.approx(s.stdev / 50.5)
    assert s.outliers == 0
    assert s.ci95_low < 50.5 < s.ci95_high


@pytest.mark.points(3)
def test_bootstrap_ci_width_matches_normal_theory() -> None:
    rng = np.random.default_rng(1)
    sigma, n = 2.0, 400
    data = rng.normal(10.0, sigma, n)
    low, high = bootstrap_ci(data)
    expected_half_width = 1.96 * sigma / math.sqrt(n)  # 0.196
    assert (high - low) / 2 == pytest.approx(expected_half_width, rel=0.15)
    assert low < data.mean() < high


@pytest.mark.hidden
@pytest.mark.points(3)
def test_bootstrap_ci_coverage_is_about_95_percent() -> None:
    rng = np.random.default_rng(7)
    hits = 0
    trials = 200
    for i in range(trials):
        data = rng.exponential(1.0, 60)  # skewed, like latencies; true mean 1.0
        low, high = bootstrap_ci(data, resamples=1000, seed=i)
        hits += low <= 1.0 <= high
    assert 0.85 <= hits / trials <= 0.99


@pytest.mark.points(3)
def test_tukey_outliers_flags_the_planted_spike_and_trim_removes_it() -> None:
    data = [9.0, 9.5, 10.0, 10.5, 11.0] * 3 + [100.0]  # Q1 9.5, Q3 10.5: fences 8 and 12
    mask = tukey_outliers(data)
    assert mask.tolist() == [False] * 15 + [True]
    kept = summarize(data)
    trimmed = summarize(data, trim=True)
    assert kept.outliers == 1 and kept.n == 16 and kept.max == 100.0
    assert trimmed.outliers == 1 and trimmed.n == 15 and trimmed.max == 11.0
    assert trimmed.mean == pytest.approx(np.mean(data[:-1]))


@pytest.mark.hidden
@pytest.mark.points(1)
def test_summary_rejects_empty_and_nan() -> None:
    with pytest.raises(ValueError, match="no samples"):
        summarize([])
    with pytest.raises(ValueError, match="NaN"):
        summarize([1.0, float("nan")])


@pytest.mark.points(1)
def test_coefficient_of_variation() -> None:
    assert coefficient_of_variation([2.0, 4.0]) == pytest.approx(math.sqrt(2) / 3)
    assert coefficient_of_variation([5.0]) == 0.0


def _timings(seed: int, n: int = 50, mean: float = 0.010, noise: float = 0.02) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return mean * (1 + noise * rng.standard_normal(n))


@pytest.mark.points(3)
def test_compare_flags_a_30_percent_slowdown() -> None:
    old = _timings(1)
    c = compare_samples(old, _timings(2) * 1.30)
    assert c.regression and c.significant
    assert c.relative_change == pytest.approx(0.30, abs=0.02)


@pytest.mark.points(3)
def test_compare_ignores_a_1_percent_slowdown_even_when_significant() -> None:
    old = _timings(1, n=2000)
    c = compare_samples(old, _timings(2, n=2000) * 1.01)
    assert c.significant  # with 2000 samples a 1% shift is detectable...
    assert not c.regression  # ...but below the 5% minimum effect


@pytest.mark.hidden
@pytest.mark.points(3)
def test_compare_noise_only_is_not_a_regression_and_speedup_is_improvement() -> None:
    assert not compare_samples(_timings(1), _timings(2)).regression
    faster = compare_samples(_timings(1), _timings(2) * 0.7)
    assert faster.improvement and not faster.regression


@pytest.mark.hidden
@pytest.mark.points(2)
def test_compare_zero_variance_and_too_few_samples() -> None:
    assert compare_samples([1.0, 1.0], [2.0, 2.0]).regression
    assert not compare_samples([1.0, 1.0], [1.0, 1.0]).regression
    with pytest.raises(ValueError, match="two samples"):
        compare_samples([1.0], [1.0, 2.0])
