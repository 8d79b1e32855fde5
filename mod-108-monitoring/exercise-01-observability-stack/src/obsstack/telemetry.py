"""The three pillars for one service process: traces (OpenTelemetry SDK -> OTLP/HTTP),
metrics (prometheus-client RED metrics with exemplars) and logs (JSON lines that carry the
trace and span ids), wired so that each one points at the others.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opentelemetry import baggage, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from prometheus_client import CollectorRegistry, Counter, Histogram

from obsstack.exemplars import ExemplarStore

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- metrics


class RedMetrics:
    """Rate, errors, duration per service and route; the duration histogram carries the
    trace id of a request as exemplar, also when several workers share the metrics."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.multiprocess_dir = os.environ.get(MULTIPROC_ENV) or None
        kwargs: dict[str, Any] = {}
        if registry is not None:
            kwargs["registry"] = registry
        self.requests = Counter("obsstack_http_requests", "HTTP requests by outcome",
                                ["service", "route", "code"], **kwargs)
        self.duration = Histogram("obsstack_http_request_duration_seconds",
                                  "HTTP request latency", ["service", "route"],
                                  buckets=LATENCY_BUCKETS, **kwargs)
        self.dropped_spans = Counter("obsstack_telemetry_dropped_spans",
                                     "Spans the OTLP exporter could not deliver",
                                     ["service"], **kwargs)
        self.predictions = Counter("obsstack_model_predictions",
                                   "Predictions by model version and class",
                                   ["service", "model_version", "prediction"], **kwargs)
        self.store = (ExemplarStore(Path(self.multiprocess_dir))
                      if self.multiprocess_dir else None)
        self.dropped_spans.labels(service)  # exported at 0 from the start

    def observe(self, route: str, code: int, seconds: float, trace_id: str | None) -> None:
        """Count one request and time it, with `trace_id` as the bucket's exemplar."""
        # BEGIN SOLUTION
        self.requests.labels(self.service, route, str(code)).inc()
        child = self.duration.labels(self.service, route)
        if not trace_id:
            child.observe(seconds)
        elif self.store is None:
            child.observe(seconds, exemplar={"trace_id": trace_id})
        else:
            child.observe(seconds)
            self.store.record("obsstack_http_request_duration_seconds",
                              {"service": self.service, "route": route}, seconds,
                              (*LATENCY_BUCKETS, float("inf")), {"trace_id": trace_id})
        # END SOLUTION


# --------------------------------------------------------------------------- traces


class CountingExporter(SpanExporter):
    """Wraps the OTLP exporter: spans it could not deliver raise the drop counter and are
    logged (one line per failed batch), so a collector outage is visible, not silent."""

    def __init__(self, inner: SpanExporter, on_drop: Any) -> None:
        self.inner = inner
        self.on_drop = on_drop

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # an exporter must never take the service down
            log.warning("span export failed: %s", exc)
            result = SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self.on_drop(len(spans))
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def setup_tracing(service: str, endpoint: str, *, sample_ratio: float = 1.0,
                  timeout_s: float = 2.0, on_drop: Any = None) -> TracerProvider:
    """A TracerProvider with parent-based ratio sampling that exports OTLP/HTTP protobuf to
    `endpoint` (base URL) in batches. An empty endpoint records spans (for log
    correlation) without exporting them. Not installed globally: the app passes it to its
    instrumentations, so several apps can live in one process (tests)."""
    # BEGIN SOLUTION
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    if endpoint:
        exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces",
                                    timeout=timeout_s)
        provider.add_span_processor(BatchSpanProcessor(
            CountingExporter(exporter, on_drop or (lambda _n: None)),
            schedule_delay_millis=200, export_timeout_millis=int(timeout_s * 1000)))
    return provider
    # END SOLUTION


def current_ids() -> tuple[str, str]:
    """(trace id, span id) of the current span as lower-case hex, or ("", "")."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return "", ""
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


# --------------------------------------------------------------------------- logs


class TraceJsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, service, message, trace_id, span_id, tenant
    (W3C baggage) and any `extra={"fields": {...}}` the caller adds."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        # BEGIN SOLUTION
        trace_id, span_id = current_ids()
        payload: dict[str, Any] = {
            "@timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "service": self.service,
            "message": record.getMessage(),
            "logger": record.name,
            "trace_id": trace_id,
            "span_id": span_id,
        }
        tenant = baggage.get_baggage("tenant")
        if tenant:
            payload["tenant"] = str(tenant)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(payload, default=str)
        # END SOLUTION


_handlers_lock = threading.Lock()


def setup_logging(service: str, log_dir: Path) -> logging.Logger:
    """The service's logger writing JSON lines to `<log_dir>/<service>.log` (appends: the
    workers of one service share the file; each line is one write)."""
    logger = logging.getLogger(f"obsstack.service.{service}.{abs(hash(str(log_dir)))}")
    with _handlers_lock:
        if not logger.handlers:
            log_dir.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(log_dir / f"{service}.log", encoding="utf-8")
            handler.setFormatter(TraceJsonFormatter(service))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False
    return logger
