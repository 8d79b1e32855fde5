"""Summary statistics for timing samples, and the regression test used by `compare`.

Outlier policy (docs/statistics.md): samples are never dropped silently. Every summary counts
outliers with Tukey's fences (outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR]); with `trim=True` they are
removed before the summary is computed and the count says how many were removed. The median and
p95 are reported alongside the mean because they are robust to the occasional descheduled step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 12345


class Summary(BaseModel):
    """Statistics of one series of per-iteration latencies (seconds)."""

    n: int
    mean: float
    median: float
    p90: float
    p95: float
    p99: float
    stdev: float
    min: float
    max: float
    cv: float
    ci95_low: float
    ci95_high: float
    outliers: int
    trimmed: bool


def tukey_outliers(samples: Sequence[float] | np.ndarray) -> np.ndarray:
    """Boolean mask of the samples outside Tukey's fences (1.5 IQR beyond the quartiles)."""
    # BEGIN SOLUTION: mask the samples outside Tukey's fences (Q1 - 1.5 IQR, Q3 + 1.5 IQR)
    a = np.asarray(samples, dtype=float)
    if a.size < 4:
        return np.zeros(a.size, dtype=bool)
    q1, q3 = np.percentile(a, [25, 75])
    iqr = q3 - q1
    return np.asarray((a < q1 - 1.5 * iqr) | (a > q3 + 1.5 * iqr))
    # END SOLUTION


def bootstrap_ci(samples: Sequence[float] | np.ndarray, confidence: float = 0.95,
                 resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
                 ) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean (seeded, so reports are stable)."""
    # BEGIN SOLUTION: seeded percentile bootstrap confidence interval of the mean
    a = np.asarray(samples, dtype=float)
    if a.size == 0:
        raise ValueError("no samples")
    if a.size == 1:
        return float(a[0]), float(a[0])
    rng = np.random.default_rng(seed)
    means = a[rng.integers(0, a.size, (resamples, a.size))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)
    # END SOLUTION


def summarize(samples: Sequence[float], trim: bool = False) -> Summary:
    """Mean, median, percentiles (linear interpolation), sample stdev, CV and a bootstrap CI."""
    # BEGIN SOLUTION: validate, count (or trim) outliers, compute the statistics and the CI
    a = np.asarray(samples, dtype=float)
    if a.size == 0:
        raise ValueError("no samples to summarise")
    if not np.all(np.isfinite(a)):
        raise ValueError("samples contain NaN or infinity")
    mask = tukey_outliers(a)
    outliers = int(mask.sum())
    if trim and outliers and outliers < a.size:
        a = a[~mask]
    mean = float(a.mean())
    stdev = float(a.std(ddof=1)) if a.size > 1 else 0.0
    p90, p95, p99 = (float(v) for v in np.percentile(a, [90, 95, 99]))
    low, high = bootstrap_ci(a)
    return Summary(n=int(a.size), mean=mean, median=float(np.median(a)), p90=p90, p95=p95,
                   p99=p99, stdev=stdev, min=float(a.min()), max=float(a.max()),
                   cv=stdev / mean if mean > 0 else 0.0, ci95_low=low, ci95_high=high,
                   outliers=outliers, trimmed=trim)
    # END SOLUTION


def coefficient_of_variation(values: Sequence[float]) -> float:
    """Sample stdev / mean; 0 for fewer than two values."""
    a = np.asarray(values, dtype=float)
    if a.size < 2 or a.mean() == 0:
        return 0.0
    return float(a.std(ddof=1) / a.mean())


class Comparison(BaseModel):
    """Welch's t-test on old vs new latencies plus a minimum relative effect size."""

    old_mean: float
    new_mean: float
    relative_change: float  # (new - old) / old; positive means slower
    p_value: float
    significant: bool
    regression: bool
    improvement: bool


def compare_samples(old: Sequence[float], new: Sequence[float], alpha: float = 0.01,
                    min_effect: float = 0.05) -> Comparison:
    """A regression needs both: p < alpha (Welch) AND the mean slower by more than min_effect.

    The effect-size floor is what keeps a real but irrelevant 1% drift from failing CI: with
    enough samples any difference becomes "significant".
    """
    # BEGIN SOLUTION: Welch t-test; regression means p below alpha and slowdown above min_effect
    a = np.asarray(old, dtype=float)
    b = np.asarray(new, dtype=float)
    if a.size < 2 or b.size < 2:
        raise ValueError("need at least two samples on each side to compare")
    old_mean, new_mean = float(a.mean()), float(b.mean())
    rel = (new_mean - old_mean) / old_mean if old_mean > 0 else math.inf
    if np.allclose(a, a[0]) and np.allclose(b, b[0]):
        # Zero variance on both sides: the t statistic is undefined; the means decide alone.
        p = 0.0 if not math.isclose(old_mean, new_mean) else 1.0
    else:
        from scipy import stats as sps  # imported here: scipy.stats costs seconds at startup

        p = float(sps.ttest_ind(a, b, equal_var=False).pvalue)
    significant = p < alpha
    return Comparison(old_mean=old_mean, new_mean=new_mean, relative_change=rel, p_value=p,
                      significant=significant,
                      regression=significant and rel > min_effect,
                      improvement=significant and rel < -min_effect)
    # END SOLUTION


class RunComparison(BaseModel):
    """Repeated runs of one job, old vs new: the ratio of the medians of the per-run medians,
    its bootstrap interval, and the noise floor measured from the baseline's own repeats."""

    old_median: float
    new_median: float
    ratio: float  # new / old; above 1 means slower
    ci_low: float
    ci_high: float
    confidence: float
    noise_floor: float  # relative change the baseline's own repeats cannot tell from noise
    runs_old: int
    runs_new: int
    regression: bool
    improvement: bool
    note: str


def compare_runs(old: Sequence[float], new: Sequence[float], min_effect: float = 0.05,
                 confidence: float = 0.95, resamples: int = 4000, seed: int = 0,
                 noise_k: float = 2.0) -> RunComparison:
    """Gate on repeated runs (one median per fresh process), not on one run's iterations.

    On a shared machine most variation is between processes (placement, frequency, other
    tenants), not between iterations of one process; a test over iterations calls that a
    significant change. Here the unit is the run: ratio = median(new runs) / median(old runs)
    with a bootstrap interval (runs resampled on both sides), and the noise floor is
    max(min_effect, noise_k x CV of the baseline's run medians). A regression needs the whole
    interval above 1 AND the ratio above 1 + noise floor.
    """
    # BEGIN SOLUTION: median of medians, bootstrap CI of the ratio, noise floor from baseline
    a = np.asarray(old, dtype=float)
    b = np.asarray(new, dtype=float)
    if a.size < 3 or b.size < 3:
        raise ValueError("need at least 3 repeated runs on each side (mlbench run --repeats 3)")
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("run medians must be positive")
    old_med, new_med = float(np.median(a)), float(np.median(b))
    ratio = new_med / old_med
    rng = np.random.default_rng(seed)
    boot_a = np.median(rng.choice(a, size=(resamples, a.size), replace=True), axis=1)
    boot_b = np.median(rng.choice(b, size=(resamples, b.size), replace=True), axis=1)
    ratios = boot_b / boot_a
    tail = (1 - confidence) / 2
    low, high = (float(q) for q in np.quantile(ratios, [tail, 1 - tail]))
    noise = noise_k * coefficient_of_variation(a.tolist())
    floor = max(min_effect, noise)
    regression = low > 1.0 and ratio > 1.0 + floor
    improvement = high < 1.0 and ratio < 1.0 - floor
    if regression or improvement:
        note = f"{ratio - 1:+.1%} beyond the noise floor {floor:.1%}"
    elif abs(ratio - 1) > floor:
        note = f"{ratio - 1:+.1%}, but the interval includes no change"
    else:
        note = (f"{ratio - 1:+.1%} within the noise floor {floor:.1%} "
                f"({'baseline run-to-run noise' if noise > min_effect else '--min-effect'})")
    return RunComparison(old_median=old_med, new_median=new_med, ratio=ratio, ci_low=low,
                         ci_high=high, confidence=confidence, noise_floor=floor,
                         runs_old=int(a.size), runs_new=int(b.size), regression=regression,
                         improvement=improvement, note=note)
    # END SOLUTION
