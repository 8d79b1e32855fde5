"""Evidently per window: drift, data summary and (once labels allow) classification quality.

Evidently 0.7's API: `Report([...presets], include_tests=True).run(current, reference)`
returns a `Snapshot`; presets generate their own tests (drift share, per-column drift, row
count...), and we add explicit ones (accuracy must not fall below reference - max drop).
Only this module imports Evidently (8-10 s on its own): everything else stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from driftwatch.reference import ReferenceProfile

METHOD_NAMES = {"ks": "ks", "chisquare": "chisquare", "psi": "psi",
                "wasserstein": "wasserstein", "jensenshannon": "jensenshannon"}


@dataclass
class EvidentlyRun:
    """The snapshots of one window and what they concluded."""

    snapshots: dict[str, Any] = field(default_factory=dict)  # name -> Snapshot
    summary: dict[str, Any] = field(default_factory=dict)


def _columns(profile: ReferenceProfile) -> list[str]:
    return [*profile.contract.features, profile.contract.probability]


def _summarise(snapshot: Any) -> dict[str, Any]:
    """Drift share, per-column drift scores and test counts out of a snapshot's dict."""
    payload = snapshot.dict()
    out: dict[str, Any] = {"column_scores": {}, "tests": {"total": 0}}
    for metric in payload["metrics"]:
        name: str = metric.get("metric_name", "")
        value = metric.get("value")
        config = metric.get("config", {})
        if name.startswith("DriftedColumnsCount") and isinstance(value, dict):
            out["drifted_columns_count"] = float(value["count"])
            out["drift_share"] = float(value["share"])
        elif name.startswith("ValueDrift"):
            out["column_scores"][config.get("column")] = {"method": config.get("method"),
                                                          "score": float(value)}
        elif name.startswith("Accuracy"):
            out["accuracy"] = float(value)
        elif name.startswith("F1Score"):
            out["f1"] = float(value)
        elif name.startswith("RocAuc("):
            out["roc_auc"] = float(value)
    for test in payload["tests"]:
        status = str(test.get("status", "UNKNOWN")).split(".")[-1].upper()
        out["tests"][status] = out["tests"].get(status, 0) + 1
        out["tests"]["total"] += 1
    return out


def run_window(window: pd.DataFrame, profile: ReferenceProfile, labelled: pd.DataFrame | None,
               per_column_method: Mapping[str, str], drift_share: float,
               max_accuracy_drop: float, numerical_method: str = "ks",
               categorical_method: str = "chisquare") -> EvidentlyRun:
    """Run the drift + summary report, and the classification report when `labelled`."""
    # BEGIN SOLUTION
    from evidently import Dataset, Report
    from evidently.presets import ClassificationPreset, DataDriftPreset, DataSummaryPreset
    from evidently.tests import gte

    contract = profile.contract
    columns = [contract.id_column, *_columns(profile)]
    definition = contract.data_definition(with_classification=False)
    current = Dataset.from_pandas(window[columns], data_definition=definition)
    reference = Dataset.from_pandas(profile.data[columns], data_definition=definition)
    drift = Report([
        DataDriftPreset(columns=_columns(profile), drift_share=drift_share,
                        num_method=METHOD_NAMES[numerical_method],
                        cat_method=METHOD_NAMES[categorical_method],
                        per_column_method={k: METHOD_NAMES[v]
                                           for k, v in per_column_method.items()} or None),
        DataSummaryPreset(),
    ], include_tests=True)
    run = EvidentlyRun()
    run.snapshots["drift"] = drift.run(current, reference)
    run.summary["drift"] = _summarise(run.snapshots["drift"])
    if labelled is not None and len(labelled):
        full = [*columns, contract.prediction, contract.target]
        cls_definition = contract.data_definition(with_classification=True)
        cur = labelled[full].assign(**{contract.target: labelled[contract.target].astype(int)})
        quality = Report([ClassificationPreset(accuracy_tests=[
            gte(profile.performance["accuracy"] - max_accuracy_drop)])], include_tests=True)
        run.snapshots["classification"] = quality.run(
            Dataset.from_pandas(cur, data_definition=cls_definition),
            Dataset.from_pandas(profile.data[full], data_definition=cls_definition))
        run.summary["classification"] = _summarise(run.snapshots["classification"])
    return run
    # END SOLUTION
