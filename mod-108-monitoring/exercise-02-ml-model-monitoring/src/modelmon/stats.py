"""Model-quality and drift statistics, pure numpy so they are cheap enough to run every scrape.

PSI uses the reference's decile edges (the usual choice in model-monitoring tools: each bin
holds ~10% of the reference, so a PSI above 0.2 means a material shift). KS is the two-sample
Kolmogorov-Smirnov statistic with the asymptotic p-value. AUC is the Mann-Whitney U statistic
with average ranks for ties, so it equals the area under the ROC curve exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

PSI_EPSILON = 1e-4  # floor for empty bins: log(0) would make PSI infinite


def as_array(values: Sequence[float] | FloatArray) -> FloatArray:
    """Float array without NaNs (missing values are data quality, not distribution)."""
    array = np.asarray(values, dtype=np.float64)
    return array[~np.isnan(array)]


def quantile_edges(reference: Sequence[float] | FloatArray, bins: int = 10) -> FloatArray:
    """Inner bin edges at the reference quantiles (duplicates removed for discrete data)."""
    ref = as_array(reference)
    if ref.size == 0:
        raise ValueError("reference sample is empty")
    inner = np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(inner)


def bin_proportions(values: FloatArray, edges: FloatArray) -> FloatArray:
    """Share of `values` in each bin (-inf, e1], (e1, e2], ..., (ek, inf)."""
    # BEGIN SOLUTION: share of values per bin (searchsorted on the edges)
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1)
    total = counts.sum()
    return counts / total if total else counts.astype(np.float64)
    # END SOLUTION


def psi_from_proportions(expected: FloatArray, actual: FloatArray) -> float:
    """Population stability index: sum((a - e) * ln(a / e)), empty bins floored at 1e-4."""
    # BEGIN SOLUTION: sum((a - e) * ln(a / e)), bins floored at PSI_EPSILON
    e = np.clip(np.asarray(expected, dtype=np.float64), PSI_EPSILON, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), PSI_EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))
    # END SOLUTION


def psi(reference: Sequence[float] | FloatArray, current: Sequence[float] | FloatArray,
        bins: int = 10, edges: FloatArray | None = None) -> float:
    """PSI of `current` against `reference`, binned at the reference quantiles."""
    ref = as_array(reference)
    cur = as_array(current)
    if cur.size == 0:
        raise ValueError("current sample is empty")
    edges = quantile_edges(ref, bins) if edges is None else edges
    return psi_from_proportions(bin_proportions(ref, edges), bin_proportions(cur, edges))


def _ecdf_steps(sorted_values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Distinct values of a sorted sample and the right-continuous ECDF at each of them."""
    last_of_run = np.r_[sorted_values[1:] != sorted_values[:-1], True]
    points = sorted_values[last_of_run]
    return points, (np.flatnonzero(last_of_run) + 1) / sorted_values.size


def ks_statistic(reference: Sequence[float] | FloatArray,
                 current: Sequence[float] | FloatArray, reference_sorted: bool = False) -> float:
    """Two-sample KS statistic: the largest gap between the two empirical CDFs.

    Both ECDFs are step functions, so the supremum is reached at a data point: evaluate the
    gap at the distinct values of each sample (one sort each, then cheap searches).
    """
    # BEGIN SOLUTION: largest ECDF gap, checked at the distinct values of both
    a = as_array(reference) if reference_sorted else np.sort(as_array(reference))
    b = np.sort(as_array(current))
    if a.size == 0 or b.size == 0:
        raise ValueError("KS needs two non-empty samples")
    a_points, a_cdf = _ecdf_steps(a)
    b_points, b_cdf = _ecdf_steps(b)
    gap_at_a = np.abs(a_cdf - np.searchsorted(b, a_points, side="right") / b.size)
    gap_at_b = np.abs(b_cdf - np.searchsorted(a, b_points, side="right") / a.size)
    return float(max(gap_at_a.max(), gap_at_b.max()))
    # END SOLUTION


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Asymptotic two-sided p-value (Kolmogorov distribution, Stephens' small-sample fix)."""
    en = math.sqrt(n * m / (n + m))
    lam = (en + 0.12 + 0.11 / en) * statistic
    if lam < 1e-3:
        return 1.0
    total = sum(2 * (-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return float(min(1.0, max(0.0, total)))


def accuracy(y_true: Sequence[int] | npt.NDArray[np.int64],
             y_pred: Sequence[int] | npt.NDArray[np.int64]) -> float:
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.size == 0:
        raise ValueError("no labelled predictions")
    return float(np.mean(t == p))


def f1_score(y_true: Sequence[int] | npt.NDArray[np.int64],
             y_pred: Sequence[int] | npt.NDArray[np.int64], positive: int = 1) -> float:
    """Binary F1 of the `positive` class (0.0 when there are no positives at all)."""
    # BEGIN SOLUTION: binary F1 of the positive class, 0.0 without positives
    t = np.asarray(y_true) == positive
    p = np.asarray(y_pred) == positive
    tp = float(np.sum(t & p))
    fp = float(np.sum(~t & p))
    fn = float(np.sum(t & ~p))
    denom = 2 * tp + fp + fn
    return 2 * tp / denom if denom else 0.0
    # END SOLUTION


def roc_auc(y_true: Sequence[int] | npt.NDArray[np.int64],
            scores: Sequence[float] | FloatArray) -> float | None:
    """ROC AUC via Mann-Whitney U; None when only one class is present (AUC undefined)."""
    # BEGIN SOLUTION: Mann-Whitney U with average ranks for ties; None for one class
    t = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(t.sum())
    n_neg = int(t.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    ranks = np.empty(s.size, dtype=np.float64)
    # average ranks over ties
    _, first_index, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first_index + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    u = ranks[t].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))
    # END SOLUTION


def mae(y_true: Sequence[float] | FloatArray, y_pred: Sequence[float] | FloatArray) -> float:
    t = np.asarray(y_true, dtype=np.float64)
    if t.size == 0:
        raise ValueError("no labelled predictions")
    return float(np.mean(np.abs(t - np.asarray(y_pred, dtype=np.float64))))


def rmse(y_true: Sequence[float] | FloatArray, y_pred: Sequence[float] | FloatArray) -> float:
    t = np.asarray(y_true, dtype=np.float64)
    if t.size == 0:
        raise ValueError("no labelled predictions")
    return float(np.sqrt(np.mean((t - np.asarray(y_pred, dtype=np.float64)) ** 2)))


def null_rate(values: Sequence[float | None] | FloatArray) -> float:
    """Share of missing values (None or NaN)."""
    array = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64) \
        if not isinstance(values, np.ndarray) else values.astype(np.float64)
    return float(np.mean(np.isnan(array))) if array.size else 0.0


def out_of_range_rate(values: FloatArray, low: float, high: float) -> float:
    """Share of present values outside [low, high] (missing values are not counted)."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return 0.0
    return float(np.mean((present < low) | (present > high)))
