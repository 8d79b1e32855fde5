"""Sliding-window model metrics: the exporter's core, pure apart from the clock it is given.

Predictions enter a per-(model, version) window (bounded by age and size); ground-truth labels
arrive later and are joined by prediction id. `compute()` turns each window into numbers:
quality (accuracy/F1/AUC or MAE/RMSE) on the labelled part, drift (PSI, KS) per feature and of
the prediction against the reference, data quality (null and out-of-range rates) and business
KPIs from the delayed outcomes (positive-outcome rate, value per prediction).
Feature values are stored as float tuples in the reference's feature order at ingest.

Windows are incremental: each window keeps per-bucket aggregates (counts per PSI bin and per
KS slot, null and out-of-range counts, confusion counts, the Mann-Whitney U of the labelled
scores, running error and value sums) that rows update when they enter and leave, so a
`compute()` costs O(rows that arrived or left since the last one), not O(window). The exact
KS statistic comes from the counts at the reference's distinct values: for each one the
current sample's count at or below it and strictly below it (its left limit), because both
ECDFs are step functions. `ModelWindows(incremental=False)` rebuilds every window from its
rows instead: the oracle the tests compare against and the benchmark's baseline.
"""

from __future__ import annotations

import bisect
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
    applied: bool = False  # counted in the window's drift aggregates
    evicted: bool = False


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


class _FeatureCounts:
    """Sliding aggregates of one feature (or the prediction score) over one window: counts
    per PSI bin and per KS slot, present and out-of-range counts. Rows are added with sign
    +1 when they enter and -1 when they leave, in vectorised batches."""

    def __init__(self, feature: FeatureReference) -> None:
        self.feature = feature
        ref = feature.sorted_sample
        self.points = np.unique(ref)  # the reference's distinct values
        # the reference ECDF at each distinct value and its left limit there
        self.ref_cdf = np.searchsorted(ref, self.points, side="right") / ref.size
        self.ref_left = np.r_[0.0, self.ref_cdf[:-1]]
        self.bins = np.zeros(feature.edges.size + 1, dtype=np.int64)
        # slot 2j: strictly between point j-1 and point j; slot 2j+1: equal to point j
        self.slots = np.zeros(2 * self.points.size + 1, dtype=np.int64)
        self.present = 0
        self.out_of_range = 0

    def update(self, values: np.ndarray, sign: int) -> None:
        """Add (sign +1) or remove (sign -1) a batch of values; NaNs only count as rows."""
        # BEGIN SOLUTION: present / out-of-range counts, PSI bin counts, KS slot counts
        present = values[~np.isnan(values)]
        if present.size == 0:
            return
        self.present += sign * int(present.size)
        self.out_of_range += sign * int(np.count_nonzero(
            (present < self.feature.low) | (present > self.feature.high)))
        self.bins += sign * np.bincount(
            np.searchsorted(self.feature.edges, present, side="left"),
            minlength=self.bins.size)
        index = np.searchsorted(self.points, present, side="left")
        on_point = self.points[np.minimum(index, self.points.size - 1)] == present
        self.slots += sign * np.bincount(2 * index + on_point, minlength=self.slots.size)
        # END SOLUTION

    def psi(self) -> float:
        # BEGIN SOLUTION: proportions from the bin counts
        return stats.psi_from_proportions(self.feature.proportions, self.bins / self.present)
        # END SOLUTION

    def ks(self) -> float:
        """Exact two-sample KS: at each reference value compare both ECDFs there and their
        left limits (the window's count strictly below it)."""
        # BEGIN SOLUTION: cumulative slot counts at and strictly below each reference value
        cumulative = np.cumsum(self.slots)
        at_or_below = cumulative[1::2] / self.present
        below = cumulative[0:-1:2] / self.present
        return float(max(np.abs(self.ref_cdf - at_or_below).max(),
                         np.abs(self.ref_left - below).max()))
        # END SOLUTION


class _Quality:
    """Sliding aggregates of the labelled rows of one window: confusion counts, the
    Mann-Whitney U of the scores (sorted score lists per class), error and value sums."""

    def __init__(self, task: str) -> None:
        self.task = task
        self.n = 0
        self.correct = self.tp = self.fp = self.fn = self.outcome_positive = 0
        self.positive_scores: list[float] = []
        self.negative_scores: list[float] = []
        self.u = 0.0  # Mann-Whitney U of the positives (ties count one half)
        self.value_n = 0
        self.value_sum = self.abs_error = self.sq_error = 0.0
        self.float_updates = 0  # running float sums are recomputed now and then (rounding)

    def update(self, entry: _Entry, sign: int) -> None:
        """A labelled row enters (sign +1) or leaves (sign -1) the window."""
        # BEGIN SOLUTION: counts, U against the other class, running sums
        label = entry.label
        assert label is not None
        self.n += sign
        if entry.value is not None:
            self.value_n += sign
            self.value_sum += sign * entry.value
            self.float_updates += 1
        if self.task == "regression":
            error = label - entry.prediction
            self.abs_error += sign * abs(error)
            self.sq_error += sign * error * error
            self.float_updates += 1
            return
        truth, predicted = int(label), int(entry.prediction)
        self.correct += sign * (truth == predicted)
        self.tp += sign * (truth == 1 and predicted == 1)
        self.fp += sign * (truth != 1 and predicted == 1)
        self.fn += sign * (truth == 1 and predicted != 1)
        self.outcome_positive += sign * (label == 1)
        score = entry.score
        if truth:
            others, own = self.negative_scores, self.positive_scores
            low, high = bisect.bisect_left(others, score), bisect.bisect_right(others, score)
            wins = low + (high - low) / 2  # negatives below this positive
        else:
            others, own = self.positive_scores, self.negative_scores
            low, high = bisect.bisect_left(others, score), bisect.bisect_right(others, score)
            wins = len(others) - high + (high - low) / 2  # positives above this negative
        self.u += sign * wins
        if sign > 0:
            bisect.insort(own, score)
        else:
            del own[bisect.bisect_left(own, score)]
        # END SOLUTION

    def resync(self, labelled: list[_Entry]) -> None:
        """Recompute the float sums from the rows (bounds their rounding drift)."""
        values = [e.value for e in labelled if e.value is not None]
        self.value_sum = math.fsum(values)
        if self.task == "regression":
            errors = [e.label - e.prediction for e in labelled if e.label is not None]
            self.abs_error = math.fsum(abs(x) for x in errors)
            self.sq_error = math.fsum(x * x for x in errors)
        self.float_updates = 0

    def metrics(self) -> tuple[dict[str, float], dict[str, float]]:
        """(quality, business) in the same form as a recomputation from the rows."""
        # BEGIN SOLUTION: quality and business KPIs from the aggregates
        kpis: dict[str, float] = {}
        if self.value_n:
            kpis["value_per_prediction"] = self.value_sum / self.value_n
        if self.task == "regression":
            return ({"mae": self.abs_error / self.n,
                     "rmse": math.sqrt(max(self.sq_error, 0.0) / self.n)}, kpis)
        denom = 2 * self.tp + self.fp + self.fn
        quality = {"accuracy": self.correct / self.n,
                   "f1": 2 * self.tp / denom if denom else 0.0}
        pairs = len(self.positive_scores) * len(self.negative_scores)
        if pairs:
            quality["auc"] = self.u / pairs
        return quality, {"outcome_rate": self.outcome_positive / self.n, **kpis}
        # END SOLUTION


@dataclass
class _Window:
    """One (model, version) window: its rows and their incremental aggregates."""

    entries: deque[_Entry]
    features: list[_FeatureCounts]
    prediction: _FeatureCounts | None
    quality: _Quality
    entering: list[_Entry] = field(default_factory=list)  # not yet in the drift counts
    leaving: list[_Entry] = field(default_factory=list)  # in the counts, to take out

    @classmethod
    def new(cls, reference: Reference) -> _Window:
        prediction = None if reference.prediction is None else _FeatureCounts(
            reference.prediction)
        return cls(deque(), [_FeatureCounts(f) for f in reference.features], prediction,
                   _Quality(reference.task))

    def apply_pending(self) -> None:
        """Fold the rows that entered or left since the last compute into the counts."""
        # BEGIN SOLUTION: one vectorised pass per direction; rows that came and went skip
        entering = [e for e in self.entering if not e.evicted]
        for e in entering:
            e.applied = True
        for batch, sign in ((entering, 1), (self.leaving, -1)):
            if not batch:
                continue
            columns = np.asarray([e.row for e in batch], dtype=np.float64).T
            for counts, column in zip(self.features, columns, strict=True):
                counts.update(column, sign)
            if self.prediction is not None:
                self.prediction.update(np.asarray([e.score for e in batch], np.float64), sign)
        self.entering, self.leaving = [], []
        # END SOLUTION


class ModelWindows:
    """Holds the windows of every model that has a reference; thread-unsafe by design
    (the exporter owns it from a single thread and publishes immutable snapshots).
    `incremental=False` recomputes every window from its rows on each `compute()` (slow;
    the reference the incremental aggregates are tested and benchmarked against)."""

    def __init__(self, references: dict[str, Reference], window_seconds: float = 300.0,
                 max_size: int = 100_000, min_samples: int = 50, min_labels: int = 20,
                 label_grace_seconds: float = 30.0, incremental: bool = True) -> None:
        self.references = references
        self.window_seconds = window_seconds
        self.max_size = max_size
        self.min_samples = min_samples
        self.min_labels = min_labels
        self.incremental = incremental
        self.windows: dict[ModelKey, _Window] = {}
        self.index: dict[str, tuple[ModelKey, _Entry]] = {}
        # labels read before their prediction (the two logs are tailed separately): retried
        # until `label_grace_seconds` after they were first seen, then counted as unmatched
        self.label_grace_seconds = label_grace_seconds
        self.pending_labels: dict[str, tuple[LabelRecord, float]] = {}
        self.counters = Counters()
        self._feature_names: dict[str, tuple[str, ...]] = {}

    # ------------------------------------------------------------------ ingest

    def add_prediction(self, record: PredictionRecord) -> bool:
        """Add a prediction; False (and counted) when no reference knows the model."""
        # BEGIN SOLUTION: row in reference feature order into its version window
        reference = self.references.get(record.model)
        if reference is None:
            self.counters.unknown_model += 1
            return False
        names = self._feature_names.get(record.model)
        if names is None:
            names = self._feature_names[record.model] = reference.feature_names
        get = record.features.get
        row = tuple([math.nan if (v := get(name)) is None else float(v) for name in names])
        score = record.score if record.score is not None else record.prediction
        entry = _Entry(record.id, record.ts, row, record.prediction, score)
        key = (record.model, record.version)
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = _Window.new(reference)
        window.entries.append(entry)
        if self.incremental:
            window.entering.append(entry)
        self.index[record.id] = (key, entry)
        self.counters.predictions_ingested += 1
        while len(window.entries) > self.max_size:
            self._evict(window, window.entries.popleft())
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
        key, entry = found
        if entry.label is not None:
            self.counters.labels_duplicate += 1
            return False
        entry.label = record.label
        entry.value = record.value
        if self.incremental:
            self.windows[key].quality.update(entry, 1)
        self.counters.labels_joined += 1
        return True
        # END SOLUTION

    def _evict(self, window: _Window, entry: _Entry) -> None:
        self.counters.evicted += 1
        current = self.index.get(entry.id)
        if current is not None and current[1] is entry:
            del self.index[entry.id]
        if not self.incremental:
            return
        # BEGIN SOLUTION: take the row out of the aggregates it is in
        entry.evicted = True
        if entry.applied:
            window.leaving.append(entry)
        if entry.label is not None:
            window.quality.update(entry, -1)
        # END SOLUTION

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
            entries = window.entries
            while entries and entries[0].ts < cutoff:
                self._evict(window, entries.popleft())

    # ------------------------------------------------------------------ compute

    def compute(self, now: float) -> list[WindowMetrics]:
        self.retry_pending_labels(now)
        self.expire(now)
        results = []
        for (model, version), window in sorted(self.windows.items(), key=lambda kv: kv[0]):
            if not window.entries:
                continue
            if self.incremental:
                results.append(self._compute_incremental(model, version, window))
            else:
                results.append(recompute(self.references[model], model, version,
                                         list(window.entries), self.min_samples,
                                         self.min_labels))
        return results

    def _compute_incremental(self, model: str, version: str, window: _Window) -> WindowMetrics:
        # BEGIN SOLUTION: fold pending rows in, then read every number off the aggregates
        reference = self.references[model]
        window.apply_pending()
        quality = window.quality
        if quality.float_updates > max(4096, 2 * len(window.entries)):  # amortised O(1)
            quality.resync([e for e in window.entries if e.label is not None])
        n = len(window.entries)
        result = WindowMetrics(model=model, version=version, task=reference.task,
                               predictions=n, labelled=quality.n,
                               baseline=dict(reference.baseline))
        enough = n >= self.min_samples
        for counts in window.features:
            out_of_range = counts.out_of_range / counts.present if counts.present else 0.0
            psi = ks = None
            if enough and counts.present:
                psi, ks = counts.psi(), counts.ks()
            result.features[counts.feature.name] = FeatureStats(
                psi, ks, 1.0 - counts.present / n, out_of_range)
        if enough and window.prediction is not None:
            result.prediction_psi = window.prediction.psi()
        if quality.n >= self.min_labels:
            result.quality, result.business = quality.metrics()
        return result
        # END SOLUTION


def recompute(reference: Reference, model: str, version: str, entries: list[_Entry],
              min_samples: int, min_labels: int) -> WindowMetrics:
    """Every number of one window rebuilt from its rows: O(window) numpy passes and sorts."""
    # BEGIN SOLUTION: per-feature drift and data quality, prediction PSI, quality
    # one contiguous row per feature: column slices of an (n x f) matrix are strided
    columns = np.ascontiguousarray(np.asarray([e.row for e in entries],
                                              dtype=np.float64).T)
    labelled = [e for e in entries if e.label is not None]
    result = WindowMetrics(model=model, version=version, task=reference.task,
                           predictions=len(entries), labelled=len(labelled),
                           baseline=dict(reference.baseline))
    enough = len(entries) >= min_samples
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
    if len(labelled) >= min_labels:
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
