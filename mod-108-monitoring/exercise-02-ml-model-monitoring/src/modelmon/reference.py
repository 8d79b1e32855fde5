"""Reference profiles: what "normal" looks like for a model, loaded once per exporter start.

A profile holds a sample per feature (for KS and the PSI bin edges), the valid range per
feature (out-of-range rate), a sample of prediction scores (prediction drift) and the
baseline quality measured offline (the accuracy-drop alert compares against it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modelmon import stats
from modelmon.stats import FloatArray


class ReferenceError(ValueError):
    """The reference file is missing, unreadable or not a valid profile."""


@dataclass(frozen=True)
class FeatureReference:
    name: str
    sorted_sample: FloatArray
    edges: FloatArray
    proportions: FloatArray
    low: float
    high: float


@dataclass(frozen=True)
class Reference:
    model: str
    task: str  # "classification" or "regression"
    features: tuple[FeatureReference, ...]
    prediction: FeatureReference | None
    baseline: dict[str, float]

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)


def _feature(name: str, sample: Any, low: float, high: float, bins: int) -> FeatureReference:
    values = stats.as_array(sample)
    if values.size < bins:
        raise ReferenceError(f"feature {name}: sample needs at least {bins} values")
    edges = stats.quantile_edges(values, bins)
    return FeatureReference(name=name, sorted_sample=np.sort(values), edges=edges,
                            proportions=stats.bin_proportions(values, edges),
                            low=low, high=high)


def parse_reference(data: Any, bins: int = 10, source: str = "reference") -> Reference:
    """Validate a profile dict; errors name the source and the offending field."""
    try:
        if not isinstance(data, dict):
            raise ReferenceError("top level must be an object")
        task = data.get("task", "classification")
        if task not in {"classification", "regression"}:
            raise ReferenceError(f"task must be classification or regression, got {task!r}")
        features_raw = data.get("features")
        if not isinstance(features_raw, dict) or not features_raw:
            raise ReferenceError("features must be a non-empty object")
        features = []
        for name, spec in features_raw.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("sample"), list):
                raise ReferenceError(f"feature {name}: needs a 'sample' list")
            low = float(spec.get("low", float("-inf")))
            high = float(spec.get("high", float("inf")))
            features.append(_feature(str(name), spec["sample"], low, high, bins))
        prediction = None
        if isinstance(data.get("prediction_sample"), list) and data["prediction_sample"]:
            prediction = _feature("prediction", data["prediction_sample"], float("-inf"),
                                  float("inf"), bins)
        baseline = {str(k): float(v) for k, v in (data.get("baseline") or {}).items()
                    if isinstance(v, int | float)}
        model = data.get("model")
        if not isinstance(model, str) or not model:
            raise ReferenceError("model must be a non-empty string")
        return Reference(model=model, task=task, features=tuple(features),
                         prediction=prediction, baseline=baseline)
    except (TypeError, ValueError) as exc:
        raise ReferenceError(f"{source}: {exc}") from exc


def load_reference(path: Path, bins: int = 10) -> Reference:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ReferenceError(f"{path}: reference file not found "
                             "(create one with `modelmon reference`)") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ReferenceError(f"{path}: cannot read reference: {exc}") from exc
    return parse_reference(data, bins, source=str(path))
