"""Own drift statistics: vectorised numpy, no pandas, no I/O.

Why own statistics next to Evidently: they run against a stored reference profile (fixed
bins, sorted reference sample), ten or more times faster per window, and they add what the
presets lack: Benjamini-Hochberg across columns (twenty columns at alpha=0.05 flag one by
chance every window otherwise) and effect-size floors (a 10k-row window makes a negligible
shift "significant").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

EPS = 1e-4  # floor for empty bins in PSI/JS: log(0) otherwise
P_VALUE_METHODS = ("ks", "chisquare")
DISTANCE_METHODS = ("psi", "wasserstein", "jensenshannon")
METHODS = P_VALUE_METHODS + DISTANCE_METHODS


# ------------------------------------------------------------------ building blocks
def bin_edges(reference: np.ndarray, bins: int = 10) -> np.ndarray:
    """Interior edges at the reference's quantiles (deduplicated): fixed per reference."""
    values = reference[np.isfinite(reference)]
    quantiles = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(quantiles)


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of finite `values` per bin ((-inf, e0], (e0, e1], ... (ek, inf))."""
    finite = values[np.isfinite(values)]
    counts = np.bincount(np.searchsorted(edges, finite, side="left"), minlength=len(edges) + 1)
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def psi(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """Population stability index: sum((c - r) * ln(c / r)), empty bins floored at EPS."""
    # BEGIN SOLUTION
    r = np.clip(np.asarray(reference_shares, dtype=float), EPS, None)
    c = np.clip(np.asarray(current_shares, dtype=float), EPS, None)
    return float(np.sum((c - r) * np.log(c / r)))
    # END SOLUTION


def ks_2samp(reference_sorted: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov: (D, asymptotic two-sided p-value).

    D = max |F_ref(x) - F_cur(x)| over every observed x, from two `searchsorted` calls on
    the pre-sorted reference; p from the Kolmogorov distribution of D at the effective
    size n m / (n + m) (scipy's "asymp" method).
    """
    # BEGIN SOLUTION
    cur = np.sort(current[np.isfinite(current)])
    n, m = len(reference_sorted), len(cur)
    if n == 0 or m == 0:
        return float("nan"), float("nan")
    points = np.concatenate([reference_sorted, cur])
    f_ref = np.searchsorted(reference_sorted, points, side="right") / n
    f_cur = np.searchsorted(cur, points, side="right") / m
    d = float(np.max(np.abs(f_ref - f_cur)))
    en = n * m / (n + m)
    p = float(stats.kstwo.sf(d, max(round(en), 1)))
    return d, min(max(p, 0.0), 1.0)
    # END SOLUTION


def wasserstein_normed(reference_sorted: np.ndarray, current: np.ndarray,
                       reference_std: float) -> float:
    """Earth mover's distance between the empirical distributions, over the reference std.

    W1 = integral |F_ref - F_cur| dx, computed on the merged sorted support.
    """
    cur = np.sort(current[np.isfinite(current)])
    if len(cur) == 0 or len(reference_sorted) == 0:
        return float("nan")
    points = np.sort(np.concatenate([reference_sorted, cur]))
    widths = np.diff(points)
    f_ref = np.searchsorted(reference_sorted, points[:-1], side="right") / len(reference_sorted)
    f_cur = np.searchsorted(cur, points[:-1], side="right") / len(cur)
    w1 = float(np.sum(np.abs(f_ref - f_cur) * widths))
    return w1 / reference_std if reference_std > 0 else w1


def jensen_shannon(reference_shares: np.ndarray, current_shares: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log, as scipy and Evidently): sqrt of the divergence."""
    r = np.clip(np.asarray(reference_shares, dtype=float), EPS, None)
    c = np.clip(np.asarray(current_shares, dtype=float), EPS, None)
    r, c = r / r.sum(), c / c.sum()
    mid = (r + c) / 2
    divergence = 0.5 * np.sum(r * np.log(r / mid)) + 0.5 * np.sum(c * np.log(c / mid))
    return float(np.sqrt(max(divergence, 0.0)))


def chi_square(reference_counts: Mapping[str, float],
               current_counts: Mapping[str, float]) -> tuple[float, float, float]:
    """Chi-square test of homogeneity of the reference and window category counts.

    A 2 x k contingency table, not goodness of fit against the reference shares: those
    shares are estimates themselves, and treating them as exact inflates false alarms when
    both samples are of similar size. Returns (statistic, p-value, Cramer's V). A category
    only one side has is simply a column of the table.
    """
    # BEGIN SOLUTION
    categories = sorted(set(reference_counts) | set(current_counts))
    table = np.array([[float(reference_counts.get(c, 0)) for c in categories],
                      [float(current_counts.get(c, 0)) for c in categories]])
    total = table.sum()
    if len(categories) < 2 or table[1].sum() == 0 or table[0].sum() == 0:
        return 0.0, 1.0, 0.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / total
    statistic = float(np.sum((table - expected) ** 2 / np.where(expected > 0, expected, 1)))
    p = float(stats.chi2.sf(statistic, df=len(categories) - 1))
    return statistic, p, float(np.sqrt(statistic / total))
    # END SOLUTION


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """BH-adjusted p-values (step-up, monotone, capped at 1), in the input's order."""
    # BEGIN SOLUTION
    p = np.asarray(p_values, dtype=float)
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.clip(adjusted, 0.0, 1.0)
    return out
    # END SOLUTION


# ------------------------------------------------------------------ per-column decision
@dataclass(frozen=True)
class DriftThresholds:
    """When a column counts as drifted (defaults in README "Configuration")."""

    alpha: float = 0.05  # false discovery rate across the window's p-value tests
    ks_floor: float = 0.05  # minimum KS D, whatever the p-value
    chisquare_floor: float = 0.05  # minimum Cramer's V
    psi: float = 0.1
    wasserstein: float = 0.1
    jensenshannon: float = 0.1


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict: the score, its p-value (adjusted too) and whether it drifted."""

    column: str
    method: str
    score: float
    p_value: float | None
    p_adjusted: float | None
    effect: float
    threshold: float
    drifted: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RawScore:
    """A method's raw output before multiple-testing correction."""

    column: str
    method: str
    score: float
    p_value: float | None
    effect: float


def decide_columns(scores: Sequence[RawScore], thresholds: DriftThresholds) -> list[ColumnDrift]:
    """Apply BH across the p-value tests, then the effect floors and distance thresholds.

    A p-value column drifts only when its adjusted p-value is below alpha AND its effect
    clears the floor; a distance column when its score reaches the method's threshold.
    """
    # BEGIN SOLUTION
    tested = [s for s in scores if s.p_value is not None and np.isfinite(s.p_value)]
    adjusted = dict(zip((s.column for s in tested),
                        benjamini_hochberg([float(s.p_value) for s in tested  # type: ignore[arg-type]
                                            ]), strict=True))
    out = []
    for s in scores:
        if s.method in P_VALUE_METHODS:
            floor = thresholds.ks_floor if s.method == "ks" else thresholds.chisquare_floor
            p_adj = adjusted.get(s.column)
            drifted = p_adj is not None and p_adj < thresholds.alpha and s.effect >= floor
            out.append(ColumnDrift(s.column, s.method, s.score, s.p_value,
                                   None if p_adj is None else float(p_adj), s.effect,
                                   thresholds.alpha, bool(drifted)))
        else:
            limit = float(getattr(thresholds, s.method))
            out.append(ColumnDrift(s.column, s.method, s.score, None, None, s.effect, limit,
                                   bool(np.isfinite(s.score) and s.score >= limit)))
    return out
    # END SOLUTION
