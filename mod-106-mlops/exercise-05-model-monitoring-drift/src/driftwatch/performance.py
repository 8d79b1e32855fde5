"""Model performance: realised once labels arrive, estimated (CBPE) before they do.

Confidence-based performance estimation (NannyML's CBPE): if the model's probabilities are
calibrated, row i is a true positive with probability p_i when predicted positive, so the
window's confusion matrix has an *expected* value computable without a single label. The
probabilities are first recalibrated on the reference (isotonic regression), because a
model is rarely calibrated on its own. What CBPE cannot see: concept drift (P(y|x) changes
while P(x) stays), since it assumes the calibration still holds. Realised labels catch it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score


@dataclass(frozen=True)
class Calibration:
    """A monotone map raw probability -> calibrated probability (isotonic, piecewise linear)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    @classmethod
    def fit(cls, proba: np.ndarray, labels: np.ndarray) -> Calibration:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(proba, labels)
        return cls(tuple(float(v) for v in iso.X_thresholds_),
                   tuple(float(v) for v in iso.y_thresholds_))

    def apply(self, proba: np.ndarray) -> np.ndarray:
        calibrated: np.ndarray = np.interp(proba, np.asarray(self.x), np.asarray(self.y))
        return calibrated

    def as_dict(self) -> dict[str, Any]:
        return {"x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(tuple(data["x"]), tuple(data["y"]))


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


def realized_metrics(labels: np.ndarray, proba: np.ndarray, threshold: float = 0.5
                     ) -> dict[str, float]:
    """Accuracy, precision, recall, F1, ROC AUC and Brier score from true labels."""
    y = np.asarray(labels, dtype=int)
    p = np.asarray(proba, dtype=float)
    predicted = p >= threshold
    tp = float(np.sum(predicted & (y == 1)))
    fp = float(np.sum(predicted & (y == 0)))
    fn = float(np.sum(~predicted & (y == 1)))
    tn = float(np.sum(~predicted & (y == 0)))
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")
    return {
        "accuracy": _ratio(tp + tn, len(y)),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": auc,
        "brier": float(np.mean((p - y) ** 2)) if len(y) else float("nan"),
    }


def cbpe(proba: np.ndarray, calibration: Calibration, threshold: float = 0.5
         ) -> dict[str, float]:
    """Expected accuracy, precision, recall and F1 from probabilities alone."""
    # BEGIN SOLUTION
    raw = np.asarray(proba, dtype=float)
    p = calibration.apply(raw)
    predicted = raw >= threshold
    tp = float(np.sum(p[predicted]))
    fp = float(np.sum(1 - p[predicted]))
    fn = float(np.sum(p[~predicted]))
    tn = float(np.sum(1 - p[~predicted]))
    return {
        "accuracy": _ratio(tp + tn, len(p)),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }
    # END SOLUTION
