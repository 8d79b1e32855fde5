"""Builders shared by the unit tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from modelmon.reference import Reference, parse_reference


def small_reference(model: str = "m", task: str = "classification", n: int = 1000,
                    seed: int = 1, baseline: dict[str, float] | None = None) -> Reference:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {
        "model": model, "task": task,
        "features": {name: {"sample": rng.standard_normal(n).tolist(), "low": -6, "high": 6}
                     for name in ("a", "b")},
        "prediction_sample": rng.random(n).tolist(),
        "baseline": baseline or {"accuracy": 0.9},
    }
    return parse_reference(data)
