"""Population Stability Index per feature: recent data against the training reference.

PSI over reference-quantile bins is cheap, symmetric enough for alerting and easy to explain
(0.1 slight, 0.2 significant shift is the usual reading).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

EPS = 1e-4


def psi(reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any], bins: int = 10) -> float:
    # BEGIN SOLUTION: PSI over reference-quantile bins (open-ended outer bins, EPS floor)
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        return 0.0
    edges[0], edges[-1] = -np.inf, np.inf
    ref_frac = np.histogram(reference, edges)[0] / max(len(reference), 1)
    cur_frac = np.histogram(current, edges)[0] / max(len(current), 1)
    ref_frac, cur_frac = np.clip(ref_frac, EPS, None), np.clip(cur_frac, EPS, None)
    return float(np.sum((cur_frac - ref_frac) * np.log(cur_frac / ref_frac)))
    # END SOLUTION


@dataclass
class DriftReport:
    threshold: float
    max_psi: float
    drifted: bool
    per_feature: dict[str, float]
    top_features: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_drift(reference: pd.DataFrame, current: pd.DataFrame, threshold: float) -> DriftReport:
    shared = [c for c in reference.columns if c in current.columns and c != "target"
              and pd.api.types.is_numeric_dtype(reference[c])]
    if not shared:
        raise ValueError("reference and current data share no numeric feature columns")
    scores = {c: round(psi(reference[c].to_numpy(float), current[c].to_numpy(float)), 6)
              for c in shared}
    top = sorted(scores, key=lambda c: scores[c], reverse=True)[:5]
    worst = scores[top[0]]
    return DriftReport(threshold=threshold, max_psi=worst, drifted=worst > threshold,
                       per_feature=scores, top_features=top)
