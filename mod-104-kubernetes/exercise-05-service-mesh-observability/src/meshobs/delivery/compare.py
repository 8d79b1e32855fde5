"""Kayenta-style canary judgement: is the canary's distribution worse than the primary's?

Absolute thresholds miss a canary that is twice as slow but still under the SLO. Comparing
samples of the same metric, same window, one-sided Mann-Whitney U (no normality assumption,
robust to the long tails latency has): a small p-value for "canary > primary" fails the check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.stats import mannwhitneyu

from meshobs.delivery.analysis import CheckResult, Verdict


def compare_samples(name: str, query: str, canary: Sequence[float], primary: Sequence[float],
                    alpha: float, min_samples: int) -> CheckResult:
    """Fail when the canary's values are significantly greater than the primary's."""
    # BEGIN SOLUTION
    canary = [x for x in canary if not math.isnan(x)]
    primary = [x for x in primary if not math.isnan(x)]
    threshold = f"p >= {alpha:g} (canary not greater than primary)"
    if len(canary) < min_samples or len(primary) < min_samples:
        return CheckResult(name, query, None, threshold, "no-data",
                           f"{len(canary)} canary / {len(primary)} primary samples, "
                           f"need {min_samples}")
    if max(canary + primary) == min(canary + primary):
        return CheckResult(name, query, 1.0, threshold, "pass", "identical samples")
    result = mannwhitneyu(canary, primary, alternative="greater")
    p_value = float(result.pvalue)
    detail = (f"U={float(result.statistic):g}, canary median "
              f"{sorted(canary)[len(canary) // 2]:.4g} vs primary "
              f"{sorted(primary)[len(primary) // 2]:.4g}")
    verdict: Verdict = "fail" if p_value < alpha else "pass"
    return CheckResult(name, query, p_value, threshold, verdict, detail)
    # END SOLUTION
