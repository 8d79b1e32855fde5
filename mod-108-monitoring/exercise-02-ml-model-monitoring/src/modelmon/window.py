"""Sliding-window model metrics: the exporter's core, pure apart from the clock it is given.

Predictions enter a per-(model, version) window (bounded by age and size); ground-truth labels
arrive later and are joined by prediction id. `compute()` turns each window into numbers:
quality (accuracy/F1/AUC or MAE/RMSE) on the labelled part, drift (PSI, KS) per feature and of
the prediction against the reference, data quality (null and out-of-range rates) and business
KPIs from the delayed outcomes (positive-outcome rate, value per prediction).
Feature values are stored as float tuples in the reference's feature order at ingest, so the
computation is a handful of numpy passes over a (n x features) matrix.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from modelmon import stats
from modelmon.predlog import LabelRecord, PredictionRecord
from modelmon.reference import FeatureReference, Reference

ModelKey = tuple[str, str]  # (model, version)


@dataclass
class _Entry:
    id: str
    ts: float
    row: tuple[float, ...]
    prediction: float
    score: float
    label: float | None = None
    value: float | None = None  # business value of the outcome, when reported


@dataclass
class FeatureStats:
    psi: float | None
    ks: float | None
    null_rate: float
    out_of_range_rate: float


@dataclass
class WindowMetrics:
    """Everything the exporter publishes for one model version."""

    model: str
    version: str
    task: str
    predictions: int
    labelled: int
    features: dict[str, FeatureStats] = field(default_factory=dict)
    prediction_psi: float | None = None
    quality: dict[str, float] = field(default_factory=dict)  # accuracy, f1, auc | mae, rmse
    baseline: dict[str, float] = field(default_factory=dict)
    business: dict[str, float] = field(default_factory=dict)  # outcome_rate, value_per_...


@dataclass
class Counters:
    """Monotonic counters for the exporter's own health (never reset while running)."""

    predictions_ingested: int = 0
    labels_joined: int = 0
    labels_unmatched: int = 0  # unknown id after the grace period
    labels_duplicate: int = 0
    unknown_model: int = 0
    evicted: int = 0


class ModelWindows:
    """Holds the windows of every model that has a reference; thread-unsafe by design
    (the exporter owns it from a single thread and publishes immutable snapshots)."""

    def __init__(self, references: dict[str, Reference], window_seconds: float = 300.0,
                 max_size: int = 100_000, min_samples: int = 50, min_labels: int = 20,
                 label_grace_seconds: float = 30.0) -> None:
        self.references = references
        self.window_seconds = window_seconds
        self.max_size = max_size
        self.min_samples = min_samples
        self.min_labels = min_labels
        self.windows: dict[ModelKey, deque[_Entry]] = {}
        self.index: dict[str, tuple[ModelKey, _Entry]] = {}
        # labels read before their prediction (the two logs are tailed separately): retried
        # until `label_grace_seconds` after they were first seen, then counted as unmatched
        self.label_grace_seconds = label_grace_seconds
        self.pending_labels: dict[str, tuple[LabelRecord, float]] = {}
        self.counters = Counters()

    # ------------------------------------------------------------------ ingest

    def add_prediction(self, record: PredictionRecord) -> bool:
        """Add a prediction; False (and counted) when no reference knows the model."""
        # BEGIN SOLUTION: row in reference feature order into its version window
        reference = self.references.get(record.model)
        if reference is None:
            self.counters.unknown_model += 1
            return False
        row = tuple(math.nan if record.features.get(name) is None
                    else float(record.features[name])  # type: ignore[arg-type]
                    for name in reference.feature_names)
        score = record.score if record.score is not None else record.prediction
        entry = _Entry(record.id, record.ts, row, record.prediction, score)
        key = (record.model, record.version)
        window = self.windows.setdefault(key, deque())
        window.append(entry)
        self.index[record.id] = (key, entry)
        self.counters.predictions_ingested += 1
        while len(window) > self.max_size:
            self._evict(window.popleft())
        return True
        # END SOLUTION

    def add_label(self, record: LabelRecord, now: float | None = None) -> bool:
        """Join a label to its prediction; False for repeated ids (counted) and for ids not
        seen yet (kept pending, see `retry_pending_labels`)."""
        # BEGIN SOLUTION: join by id; keep unknown ids pending, count duplicates
        found = self.index.get(record.id)
        if found is None:
            if record.id not in self.pending_labels:
                self.pending_labels[record.id] = (record, record.ts if now is None else now)
                while len(self.pending_labels) > self.max_size:  # bounded under garbage input
                    del self.pending_labels[next(iter(self.pending_labels))]
                    self.counters.labels_unmatched += 1
            return False
        entry = found[1]
        if entry.label is not None:
            self.counters.labels_duplicate += 1
            return False
        entry.label = record.label
        entry.value = record.value
        self.counters.labels_joined += 1
        return True
        # END SOLUTION

    def _evict(self, entry: _Entry) -> None:
        self.counters.evicted += 1
        current = self.index.get(entry.id)
        if current is not None and current[1] is entry:
            del self.index[entry.id]

    def retry_pending_labels(self, now: float) -> None:
        """Join pending labels whose prediction arrived; give up on those past the grace."""
        # BEGIN SOLUTION: join pending labels now known; count those past grace
        for label_id, (record, first_seen) in list(self.pending_labels.items()):
            if label_id in self.index:
                del self.pending_labels[label_id]
                self.add_label(record)
            elif now - first_seen > self.label_grace_seconds:
                del self.pending_labels[label_id]
                self.counters.labels_unmatched += 1
        # END SOLUTION

    def expire(self, now: float) -> None:
        """Drop predictions older than the window."""
        cutoff = now - self.window_seconds
        for window in self.windows.values():
            while window and window[0].ts < cutoff:
                self._evict(window.popleft())

    # ------------------------------------------------------------------ compute

    def compute(self, now: float) -> list[WindowMetrics]:
        self.retry_pending_labels(now)
        self.expire(now)
        results = []
        for (model, version), window in sorted(self.windows.items()):
            if not window:
                continue
            results.append(self._compute_one(model, version, list(window)))
        return results

    def _compute_one(self, model: str, version: str, entries: list[_Entry]) -> WindowMetrics:
        # BEGIN SOLUTION: per-feature drift and data quality, prediction PSI, quality
        reference = self.references[model]
        # one contiguous row per feature: column slices of an (n x f) matrix are strided
        columns = np.ascontiguousarray(np.asarray([e.row for e in entries],
                                                  dtype=np.float64).T)
        labelled = [e for e in entries if e.label is not None]
        result = WindowMetrics(model=model, version=version, task=reference.task,
                               predictions=len(entries), labelled=len(labelled),
                               baseline=dict(reference.baseline))
        enough = len(entries) >= self.min_samples
        for i, feature in enumerate(reference.features):
            column = columns[i]
            present = column[~np.isnan(column)]
            nulls = 1.0 - present.size / column.size
            out_of_range = stats.out_of_range_rate(present, feature.low, feature.high)
            psi = ks = None
            if enough and present.size:
                psi, ks = _drift(feature, present)
            result.features[feature.name] = FeatureStats(psi, ks, nulls, out_of_range)
        if enough and reference.prediction is not None:
            scores = np.asarray([e.score for e in entries], dtype=np.float64)
            result.prediction_psi = _drift(reference.prediction, scores)[0]
        if len(labelled) >= self.min_labels:
            result.quality = _quality(reference.task, labelled)
            result.business = _business(reference.task, labelled)
        return result
        # END SOLUTION


def _drift(feature: FeatureReference, values: np.ndarray) -> tuple[float, float]:
    psi = stats.psi_from_proportions(feature.proportions,
                                     stats.bin_proportions(values, feature.edges))
    ks = stats.ks_statistic(feature.sorted_sample, values, reference_sorted=True)
    return psi, ks


def _quality(task: str, labelled: list[_Entry]) -> dict[str, float]:
    truth = np.asarray([e.label for e in labelled], dtype=np.float64)
    predicted = np.asarray([e.prediction for e in labelled], dtype=np.float64)
    if task == "regression":
        return {"mae": stats.mae(truth, predicted), "rmse": stats.rmse(truth, predicted)}
    t = truth.astype(np.int64)
    quality = {"accuracy": stats.accuracy(t, predicted.astype(np.int64)),
               "f1": stats.f1_score(t, predicted.astype(np.int64))}
    auc = stats.roc_auc(t, np.asarray([e.score for e in labelled], dtype=np.float64))
    if auc is not None:
        quality["auc"] = auc
    return quality


def _business(task: str, labelled: list[_Entry]) -> dict[str, float]:
    """Business KPIs from the delayed outcomes: the share of positive outcomes (conversion,
    churn; classification only) and the mean reported value per predicted-and-resolved case
    (outcomes that report no value are left out, not counted as zero)."""
    # BEGIN SOLUTION: positive-outcome share; mean of the reported values
    kpis: dict[str, float] = {}
    if task != "regression":
        kpis["outcome_rate"] = sum(1 for e in labelled if e.label == 1) / len(labelled)
    values = [e.value for e in labelled if e.value is not None]
    if values:
        kpis["value_per_prediction"] = math.fsum(values) / len(values)
    return kpis
    # END SOLUTION
