"""The reference profile: what "normal" looks like, frozen from the training data.

Built once (`driftwatch reference build`) and identified by a content hash, so every window
result says exactly which reference it was compared with. It holds what the own statistics
need (fixed PSI bins, sorted samples, category shares), the CBPE calibration map and the
reference performance the policy measures drops against.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from driftwatch.contract import DataContract
from driftwatch.errors import InsufficientDataError
from driftwatch.performance import Calibration, realized_metrics

MIN_REFERENCE_ROWS = 200


@dataclass(frozen=True)
class NumericalProfile:
    edges: tuple[float, ...]
    shares: tuple[float, ...]
    mean: float
    std: float


@dataclass
class ReferenceProfile:
    """Everything a window is compared with. `data` is the reference sample itself."""

    contract: DataContract
    data: pd.DataFrame
    numerical: dict[str, NumericalProfile]
    categorical: dict[str, dict[str, float]]
    calibration: Calibration
    performance: dict[str, float]
    content_hash: str = ""

    def sorted_values(self, column: str) -> np.ndarray:
        """The reference sample of a numerical column, sorted, NaN dropped (cached)."""
        cache: dict[str, np.ndarray] = self.__dict__.setdefault("_sorted", {})
        if column not in cache:
            values = self.data[column].to_numpy(dtype=float)
            cache[column] = np.sort(values[np.isfinite(values)])
        return cache[column]

    def summary(self) -> dict[str, Any]:
        """The JSON-able part (everything but the sample), hashed together with the sample."""
        return {
            "contract": self.contract.model_dump(mode="json"),
            "rows": len(self.data),
            "numerical": {k: {"edges": list(v.edges), "shares": list(v.shares),
                              "mean": v.mean, "std": v.std}
                          for k, v in self.numerical.items()},
            "categorical": self.categorical,
            "calibration": self.calibration.as_dict(),
            "performance": self.performance,
        }

    @classmethod
    def from_summary(cls, summary: dict[str, Any], data: pd.DataFrame) -> ReferenceProfile:
        return cls(
            contract=DataContract.model_validate(summary["contract"]),
            data=data,
            numerical={k: NumericalProfile(tuple(v["edges"]), tuple(v["shares"]), v["mean"],
                                           v["std"]) for k, v in summary["numerical"].items()},
            categorical={k: dict(v) for k, v in summary["categorical"].items()},
            calibration=Calibration.from_dict(summary["calibration"]),
            performance=dict(summary["performance"]),
        )


def content_hash(summary: dict[str, Any], data: pd.DataFrame) -> str:
    """sha256 over the canonical summary JSON and the sample's row hashes (order-sensitive)."""
    digest = hashlib.sha256(json.dumps(summary, sort_keys=True).encode())
    digest.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def build_reference(training: pd.DataFrame, contract: DataContract,
                    bins: int = 10) -> ReferenceProfile:
    """Profile `training` (features, probability, prediction and label) under `contract`."""
    contract.validate_predictions(training, source="training data")
    contract.validate_labels(training.assign(label_timestamp=0), source="training data")
    if len(training) < MIN_REFERENCE_ROWS:
        raise InsufficientDataError(f"training data: {len(training)} rows, need at least "
                                    f"{MIN_REFERENCE_ROWS} for a reference")
    # BEGIN SOLUTION
    from driftwatch.stats import bin_edges, bin_shares

    keep = [contract.id_column, *contract.features, contract.probability, contract.prediction,
            contract.target]
    data = training[keep].reset_index(drop=True)
    numerical = {}
    for column in (*contract.numerical, contract.probability):
        values = data[column].to_numpy(dtype=float)
        edges = bin_edges(values, bins)
        numerical[column] = NumericalProfile(
            tuple(float(e) for e in edges), tuple(float(s) for s in bin_shares(values, edges)),
            float(np.nanmean(values)), float(np.nanstd(values)))
    categorical = {column: {str(k): float(v) for k, v in
                            data[column].astype(str).value_counts(normalize=True).items()}
                   for column in contract.categorical}
    proba = data[contract.probability].to_numpy(dtype=float)
    labels = data[contract.target].to_numpy(dtype=int)
    calibration = Calibration.fit(proba, labels)
    performance = realized_metrics(labels, proba, contract.threshold)
    profile = ReferenceProfile(contract, data, numerical, categorical, calibration, performance)
    profile.content_hash = content_hash(profile.summary(), data)
    return profile
    # END SOLUTION
