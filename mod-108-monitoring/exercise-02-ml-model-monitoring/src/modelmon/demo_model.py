"""The demo model (a fixed logistic scorer) and the world it lives in.

The "world" is the data-generating process the traffic generator samples from: five standard
normal features and a ground truth that the model approximates (so its accuracy is high but
not perfect). Drift shifts feature means; label noise flips ground-truth labels. Keeping both
here lets the reference, the service and the traffic generator agree by construction.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from aiinfra_shared.io import atomic_write_text

from modelmon import stats

FEATURES: tuple[str, ...] = ("f0", "f1", "f2", "f3", "f4")
VALID_RANGE: tuple[float, float] = (-6.0, 6.0)  # values outside are data-quality errors
MODEL_WEIGHTS: tuple[float, ...] = (1.4, -1.1, 0.7, 0.1, 0.5)
TRUE_WEIGHTS: tuple[float, ...] = (1.5, -1.0, 0.8, 0.0, 0.5)
TRUE_NOISE = 0.5
# the business side of the delayed outcome: a retained customer (label 0) keeps paying this
# much per period, a churned one (label 1) nothing; the exporter reports it per prediction
RETAINED_VALUE = 30.0


def outcome_value(label: int) -> float:
    """Business value (revenue per period) realised by a churn outcome."""
    return 0.0 if label == 1 else RETAINED_VALUE


@dataclass(frozen=True)
class DemoModel:
    """Binary classifier: score = sigmoid(w . x + b); missing features are imputed with 0."""

    weights: tuple[float, ...] = MODEL_WEIGHTS
    bias: float = 0.0
    features: tuple[str, ...] = FEATURES

    def score(self, features: dict[str, float | None]) -> float:
        z = self.bias + sum(
            w * (features.get(name) or 0.0) for w, name in zip(self.weights, self.features,
                                                               strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def predict(self, features: dict[str, float | None]) -> tuple[int, float, float]:
        """(class, confidence of that class, positive-class score)."""
        s = self.score(features)
        label = int(s >= 0.5)
        return label, (s if label else 1.0 - s), s


@dataclass
class World:
    """Samples feature rows and ground truth; `drift` shifts f0 and f1 by that many std devs."""

    seed: int = 0
    drift: float = 0.0
    drift_features: tuple[str, ...] = ("f0", "f1")
    label_noise: float = 0.0
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def sample(self, n: int) -> np.ndarray[Any, np.dtype[np.float64]]:
        rows = self.rng.standard_normal((n, len(FEATURES)))
        for name in self.drift_features:
            rows[:, FEATURES.index(name)] += self.drift
        return rows

    def truth(self, rows: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, Any]:
        z = rows @ np.asarray(TRUE_WEIGHTS) + self.rng.normal(0, TRUE_NOISE, rows.shape[0])
        labels = (z > 0).astype(np.int64)
        if self.label_noise > 0:
            flip = self.rng.random(rows.shape[0]) < self.label_noise
            labels = np.where(flip, 1 - labels, labels)
        return np.asarray(labels, dtype=np.int64)


def build_reference(model_name: str = "churn", n: int = 2000, seed: int = 42,
                    sample_size: int = 2000) -> dict[str, Any]:
    """Reference profile from training-like data: samples for PSI/KS and baseline quality."""
    model = DemoModel()
    world = World(seed=seed)
    rows = world.sample(n)
    truth = world.truth(rows)
    scores = np.asarray([model.score(dict(zip(FEATURES, row, strict=True))) for row in rows])
    predicted = (scores >= 0.5).astype(np.int64)
    keep = slice(0, sample_size)
    auc = stats.roc_auc(truth, scores)
    return {
        "model": model_name,
        "task": "classification",
        "features": {
            name: {"sample": [round(float(v), 6) for v in rows[keep, i]],
                   "low": VALID_RANGE[0], "high": VALID_RANGE[1]}
            for i, name in enumerate(FEATURES)
        },
        "prediction_sample": [round(float(v), 6) for v in scores[keep]],
        "baseline": {"accuracy": round(stats.accuracy(truth, predicted), 6),
                     "f1": round(stats.f1_score(truth, predicted), 6),
                     "auc": round(auc, 6) if auc is not None else None},
    }


def write_reference(path: Path, model_name: str = "churn", seed: int = 42) -> dict[str, Any]:
    reference = build_reference(model_name, seed=seed)
    atomic_write_text(Path(path), json.dumps(reference) + "\n")
    return reference


def load_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())
