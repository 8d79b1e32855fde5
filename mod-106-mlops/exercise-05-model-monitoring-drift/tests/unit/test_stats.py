"""Own statistics against hand-computed values and scipy's reference implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from driftwatch import stats


@pytest.mark.points(2)
def test_psi_equals_the_hand_computed_value() -> None:
    # (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5)
    expected = -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    assert stats.psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(expected)
    assert stats.psi(np.array([0.2, 0.8]), np.array([0.2, 0.8])) == 0.0


@pytest.mark.points(2)
def test_psi_on_fixed_reference_bins() -> None:
    reference = np.arange(1, 11, dtype=float)  # deciles -> edges 1.9, 2.8, ...
    edges = stats.bin_edges(reference, bins=2)
    assert edges.tolist() == [5.5]
    assert stats.bin_shares(np.array([1.0, 2.0, 9.0, 10.0, 11.0, np.nan]), edges).tolist() == \
        [0.4, 0.6]


@pytest.mark.points(2)
def test_ks_equals_hand_computed_d_and_scipy_asymptotic_p() -> None:
    ref = np.array([1.0, 2.0, 3.0, 4.0])
    cur = np.array([3.0, 4.0, 5.0, 6.0])
    d, p = stats.ks_2samp(ref, cur)
    assert d == 0.5  # at x = 2: F_ref = 0.5, F_cur = 0
    rng = np.random.default_rng(0)
    a, b = np.sort(rng.normal(0, 1, 800)), rng.normal(0.2, 1, 600)
    d, p = stats.ks_2samp(a, b)
    expected = sps.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue, rel=0.05)


@pytest.mark.points(1)
def test_normalised_wasserstein_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 2, 500), rng.normal(1, 2, 300)
    expected = sps.wasserstein_distance(a, b) / np.std(a)
    assert stats.wasserstein_normed(np.sort(a), b, float(np.std(a))) == pytest.approx(expected)


@pytest.mark.points(1)
def test_chi_square_is_the_homogeneity_test() -> None:
    ref = {"a": 500, "b": 300, "c": 200}
    cur = {"a": 40, "b": 30, "c": 25, "new": 5}
    statistic, p, v = stats.chi_square(ref, cur)
    table = np.array([[500, 300, 200, 0], [40, 30, 25, 5]])
    expected = sps.chi2_contingency(table, correction=False)
    assert statistic == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue)
    assert v == pytest.approx(math.sqrt(expected.statistic / table.sum()))


@pytest.mark.points(1)
def test_jensen_shannon_matches_scipy() -> None:
    from scipy.spatial.distance import jensenshannon

    r, c = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    assert stats.jensen_shannon(r, c) == pytest.approx(jensenshannon(r, c))


@pytest.mark.points(2)
def test_benjamini_hochberg_by_hand() -> None:
    adjusted = stats.benjamini_hochberg([0.01, 0.04, 0.03, 0.2])
    # sorted 0.01, 0.03, 0.04, 0.2 -> 0.04, 0.06, 0.0533, 0.2 -> step-up minimum
    assert adjusted == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])


@pytest.mark.hidden
@pytest.mark.points(2)
def test_bh_keeps_twenty_null_columns_quiet_where_raw_p_values_would_not() -> None:
    p_values = [0.03] + [0.5] * 19  # one "significant" column out of twenty, by chance
    scores = [stats.RawScore(f"c{i}", "ks", 0.2, p, 0.2) for i, p in enumerate(p_values)]
    decided = stats.decide_columns(scores, stats.DriftThresholds())
    assert not any(c.drifted for c in decided)
    assert decided[0].p_adjusted == pytest.approx(0.5)  # min(0.03 * 20, 0.5 * 20 / 20)


@pytest.mark.hidden
@pytest.mark.points(3)
def test_effect_floor_ignores_a_tiny_shift_in_a_big_window() -> None:
    rng = np.random.default_rng(2)
    ref = np.sort(rng.normal(0, 1, 200_000))
    cur = rng.normal(0.03, 1, 200_000)
    d, p = stats.ks_2samp(ref, cur)
    assert p < 1e-6  # "significant" ...
    score = [stats.RawScore("x", "ks", d, p, d)]
    assert not stats.decide_columns(score, stats.DriftThresholds())[0].drifted  # ... but tiny
    assert stats.decide_columns(score, stats.DriftThresholds(ks_floor=0.0))[0].drifted
    strong = rng.normal(0.5, 1, 2000)
    d2, p2 = stats.ks_2samp(ref, strong)
    assert stats.decide_columns([stats.RawScore("x", "ks", d2, p2, d2)],
                                stats.DriftThresholds())[0].drifted
