"""The ML exporter: tails the prediction and label logs and publishes window metrics.

A background thread ingests new log lines and recomputes every `interval_seconds`; the custom
collector renders the latest immutable snapshot, so a scrape never waits for the numpy work
and never sees half-updated numbers. Malformed lines are counted per log and skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from modelmon.config import ExporterSettings
from modelmon.predlog import LogTail, MalformedRecordError, parse_label, parse_prediction
from modelmon.reference import Reference, load_reference
from modelmon.window import Counters, ModelWindows, WindowMetrics

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Snapshot:
    metrics: tuple[WindowMetrics, ...] = ()
    counters: Counters = field(default_factory=Counters)
    malformed: dict[str, int] = field(default_factory=lambda: {"predictions": 0, "labels": 0})
    compute_seconds: float = 0.0
    computed_at: float = 0.0


class Exporter:
    """Owns the windows; `step()` ingests and recomputes once (the loop calls it)."""

    def __init__(self, settings: ExporterSettings, references: dict[str, Reference]) -> None:
        self.settings = settings
        self.windows = ModelWindows(references, settings.window_seconds,
                                    settings.max_window_size, settings.min_samples,
                                    settings.min_labels, settings.label_grace_seconds)
        # offsets persisted with the file's inode: a restart resumes, never re-reads
        self.prediction_tail = LogTail(settings.prediction_log,
                                       offset_state_path(settings, settings.prediction_log))
        self.label_tail = LogTail(settings.label_log,
                                  offset_state_path(settings, settings.label_log))
        self.malformed = {"predictions": 0, "labels": 0}
        self.snapshot = Snapshot()
        self.clock = time.time  # replaceable in tests
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: ExporterSettings) -> Exporter:
        references = {}
        for path in settings.references:
            reference = load_reference(path, settings.psi_bins)
            references[reference.model] = reference
        return cls(settings, references)

    def ingest(self, now: float) -> None:
        # BEGIN SOLUTION: parse new prediction, then label lines; count malformed ones
        # predictions first: a label in the same batch may refer to one of them
        for line in self.prediction_tail.read_lines():
            try:
                self.windows.add_prediction(parse_prediction(line))
            except MalformedRecordError as exc:
                self.malformed["predictions"] += 1
                log.debug("skipping malformed prediction line: %s", exc)
        for line in self.label_tail.read_lines():
            try:
                self.windows.add_label(parse_label(line), now)
            except MalformedRecordError as exc:
                self.malformed["labels"] += 1
                log.debug("skipping malformed label line: %s", exc)
        # END SOLUTION

    def step(self) -> Snapshot:
        started = time.perf_counter()
        now = self.clock()
        self.ingest(now)
        metrics = tuple(self.windows.compute(now))
        counters = Counters(**vars(self.windows.counters))
        self.snapshot = Snapshot(metrics, counters, dict(self.malformed),
                                 time.perf_counter() - started, now)
        return self.snapshot

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # keep exporting the last good snapshot
                log.exception("exporter step failed")
            self._stop.wait(self.settings.interval_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="modelmon-exporter",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.prediction_tail.close()
        self.label_tail.close()


def offset_state_path(settings: ExporterSettings, log_path: Path) -> Path:
    """Where the read offset of `log_path` is persisted (`<log name>.offset.json`)."""
    folder = settings.state_dir if settings.state_dir is not None else log_path.parent
    return folder / f"{log_path.name}.offset.json"


class SnapshotCollector(Collector):
    """Renders the exporter's latest snapshot as Prometheus metric families."""

    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        return list(render_snapshot(self.exporter.snapshot))


def render_snapshot(snap: Snapshot) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    # BEGIN SOLUTION: yield gauge and counter families built from the snapshot
    mv = ["model", "version"]
    mvf = [*mv, "feature"]
    window_size = GaugeMetricFamily("modelmon_window_predictions",
                                    "Predictions in the sliding window", labels=mv)
    labelled = GaugeMetricFamily("modelmon_window_labelled_predictions",
                                 "Predictions in the window that have a ground-truth label",
                                 labels=mv)
    psi = GaugeMetricFamily("modelmon_feature_psi",
                            "Population stability index of a feature vs the reference",
                            labels=mvf)
    ks = GaugeMetricFamily("modelmon_feature_ks_statistic",
                           "Two-sample KS statistic of a feature vs the reference", labels=mvf)
    nulls = GaugeMetricFamily("modelmon_feature_null_rate", "Share of missing feature values",
                              labels=mvf)
    oor = GaugeMetricFamily("modelmon_feature_out_of_range_rate",
                            "Share of feature values outside the reference's valid range",
                            labels=mvf)
    pred_psi = GaugeMetricFamily("modelmon_prediction_psi",
                                 "PSI of the prediction score vs the reference", labels=mv)
    quality = {
        name: GaugeMetricFamily(f"modelmon_model_{name}", help_text, labels=mv)
        for name, help_text in [
            ("accuracy", "Accuracy on labelled predictions in the window"),
            ("f1", "F1 (positive class) on labelled predictions in the window"),
            ("auc", "ROC AUC on labelled predictions in the window"),
            ("mae", "Mean absolute error on labelled predictions in the window"),
            ("rmse", "Root mean squared error on labelled predictions in the window"),
        ]
    }
    business = {
        name: GaugeMetricFamily(f"modelmon_business_{name}", help_text, labels=mv)
        for name, help_text in [
            ("outcome_rate", "Share of resolved predictions whose delayed outcome is positive "
                             "(conversion, churn)"),
            ("value_per_prediction", "Mean business value (e.g. revenue) reported with the "
                                     "delayed outcomes of predictions in the window"),
        ]
    }
    baseline = GaugeMetricFamily("modelmon_model_baseline",
                                 "Offline baseline of a quality metric (from the reference)",
                                 labels=[*mv, "metric"])
    for m in snap.metrics:
        key = [m.model, m.version]
        window_size.add_metric(key, m.predictions)
        labelled.add_metric(key, m.labelled)
        for feature, fs in m.features.items():
            nulls.add_metric([*key, feature], fs.null_rate)
            oor.add_metric([*key, feature], fs.out_of_range_rate)
            if fs.psi is not None:
                psi.add_metric([*key, feature], fs.psi)
            if fs.ks is not None:
                ks.add_metric([*key, feature], fs.ks)
        if m.prediction_psi is not None:
            pred_psi.add_metric(key, m.prediction_psi)
        for name, value in m.quality.items():
            quality[name].add_metric(key, value)
        for name, value in m.baseline.items():
            baseline.add_metric([*key, name], value)
        for name, value in m.business.items():
            business[name].add_metric(key, value)
    yield from (window_size, labelled, psi, ks, nulls, oor, pred_psi, *quality.values(),
                baseline, *business.values())
    malformed = CounterMetricFamily("modelmon_exporter_malformed_lines",
                                    "Log lines skipped because they were not valid records",
                                    labels=["log"])
    for name, count in snap.malformed.items():
        malformed.add_metric([name], count)
    yield malformed
    c = snap.counters
    for name, value, help_text in [
        ("predictions_ingested", c.predictions_ingested, "Predictions read from the log"),
        ("labels_joined", c.labels_joined, "Labels joined to a prediction by id"),
        ("labels_unmatched", c.labels_unmatched,
         "Labels whose prediction id stayed unknown past the grace period "
         "(never predicted, or already left the window)"),
        ("labels_duplicate", c.labels_duplicate, "Repeated labels for the same prediction"),
        ("unknown_model_predictions", c.unknown_model,
         "Predictions for models without a reference profile"),
    ]:
        yield CounterMetricFamily(f"modelmon_exporter_{name}", help_text, value=value)
    yield GaugeMetricFamily("modelmon_exporter_compute_seconds",
                            "Duration of the last ingest + window computation",
                            value=snap.compute_seconds)
    yield GaugeMetricFamily("modelmon_exporter_last_compute_timestamp_seconds",
                            "Unix time of the last computation", value=snap.computed_at)
    # END SOLUTION


def create_app(exporter: Exporter) -> FastAPI:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(exporter))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        exporter.start()
        yield
        exporter.stop()

    app = FastAPI(title="modelmon exporter", lifespan=lifespan)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE)

    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        snap = exporter.snapshot
        return {"status": "ok", "models": [f"{m.model}:{m.version}" for m in snap.metrics],
                "computed_at": snap.computed_at}

    return app
