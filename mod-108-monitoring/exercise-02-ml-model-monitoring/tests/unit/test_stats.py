"""Statistics against values computed by hand (the arithmetic is in each docstring)."""

import math

import numpy as np
import pytest

from modelmon import stats


@pytest.mark.points(2)
def test_psi_from_proportions_hand_computed() -> None:
    """(0.5-0.25)ln(0.5/0.25) + (0.5-0.75)ln(0.5/0.75) = 0.25 ln2 + 0.25 ln1.5 = 0.274653."""
    value = stats.psi_from_proportions(np.array([0.25, 0.75]), np.array([0.5, 0.5]))
    assert value == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert value == pytest.approx(0.274653, abs=1e-6)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_psi_identical_distributions_is_zero_and_empty_bin_is_floored() -> None:
    assert stats.psi_from_proportions(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    # empty actual bin: floored at 1e-4 instead of log(0) -> finite
    value = stats.psi_from_proportions(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
    expected = 0.5 * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert value == pytest.approx(expected)


@pytest.mark.points(2)
def test_psi_binned_at_reference_quantiles() -> None:
    """Reference 1..4 with 2 bins: edge at the median 2.5 -> expected [0.5, 0.5].
    Current [1, 3, 4, 4]: 1 of 4 below 2.5 -> actual [0.25, 0.75] -> PSI 0.274653."""
    value = stats.psi([1, 2, 3, 4], [1, 3, 4, 4], bins=2)
    assert value == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))


@pytest.mark.points(1)
def test_psi_grows_with_shift() -> None:
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(5000)
    small = stats.psi(ref, rng.standard_normal(5000) + 0.1)
    large = stats.psi(ref, rng.standard_normal(5000) + 1.0)
    assert small < 0.1 < 0.2 < large


@pytest.mark.points(2)
def test_ks_statistic_hand_computed() -> None:
    """a=[1,2,3], b=[2,3,4]: at x=1 F_a=1/3, F_b=0 -> gap 1/3 (the maximum)."""
    assert stats.ks_statistic([1, 2, 3], [2, 3, 4]) == pytest.approx(1 / 3)
    assert stats.ks_statistic([1, 2], [3, 4]) == 1.0
    assert stats.ks_statistic([1, 2, 3], [1, 2, 3]) == 0.0


@pytest.mark.points(1)
@pytest.mark.hidden
def test_ks_ignores_nans_and_rejects_empty() -> None:
    assert stats.ks_statistic([1, 2, float("nan")], [3, 4]) == 1.0
    with pytest.raises(ValueError, match="non-empty"):
        stats.ks_statistic([], [1.0])


@pytest.mark.points(1)
def test_ks_pvalue_known_points() -> None:
    """Kolmogorov distribution: Q(lambda=1.36) ~ 0.049 (the classic 5% critical value)."""
    n = m = 1_000_000  # en huge -> lambda = sqrt(n m/(n+m)) * D
    d = 1.36 / math.sqrt(n * m / (n + m))
    assert stats.ks_pvalue(d, n, m) == pytest.approx(0.0494, abs=1e-3)
    assert stats.ks_pvalue(0.0, 10, 10) == 1.0


@pytest.mark.points(2)
def test_classification_metrics_hand_computed() -> None:
    """truth 1,1,0,0,1 vs pred 1,0,0,1,1: TP=2 FP=1 FN=1 TN=1 -> acc 3/5, F1 4/6."""
    truth, pred = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    assert stats.accuracy(truth, pred) == pytest.approx(0.6)
    assert stats.f1_score(truth, pred) == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert stats.f1_score([0, 0], [0, 0]) == 0.0


@pytest.mark.points(2)
def test_auc_hand_computed_with_ties() -> None:
    """pos scores {0.8, 0.4}, neg {0.4, 0.1}: pairs (0.8>0.4)=1, (0.8>0.1)=1, (0.4=0.4)=0.5,
    (0.4>0.1)=1 -> 3.5/4 = 0.875."""
    assert stats.roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.1]) == pytest.approx(0.875)
    assert stats.roc_auc([1, 0], [0.9, 0.1]) == 1.0
    assert stats.roc_auc([1, 1], [0.9, 0.1]) is None


@pytest.mark.points(1)
def test_regression_metrics_hand_computed() -> None:
    """errors 1, -2, 0: MAE = 3/3 = 1, RMSE = sqrt(5/3)."""
    assert stats.mae([1, 2, 3], [2, 0, 3]) == pytest.approx(1.0)
    assert stats.rmse([1, 2, 3], [2, 0, 3]) == pytest.approx(math.sqrt(5 / 3))


@pytest.mark.points(1)
def test_data_quality_rates() -> None:
    assert stats.null_rate([1.0, None, float("nan"), 2.0]) == 0.5
    values = np.array([-10.0, 0.0, 5.0, np.nan, 20.0])
    assert stats.out_of_range_rate(values, -6, 6) == 0.5  # 2 of the 4 present values


@pytest.mark.points(2)
@pytest.mark.hidden
def test_ks_matches_brute_force_with_many_ties() -> None:
    """The step-point evaluation equals the gap evaluated at every pooled data point."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        a = rng.integers(0, 8, rng.integers(1, 30)).astype(float)
        b = rng.integers(0, 8, rng.integers(1, 30)).astype(float)
        pooled = np.concatenate([a, b])
        brute = np.max(np.abs(np.searchsorted(np.sort(a), pooled, side="right") / a.size
                              - np.searchsorted(np.sort(b), pooled, side="right") / b.size))
        assert stats.ks_statistic(a, b) == pytest.approx(brute, abs=1e-12)
        assert stats.ks_statistic(np.sort(a), b, reference_sorted=True) == \
            pytest.approx(brute, abs=1e-12)
