"""Exemplars in multiprocess mode, RED metrics, trace-correlated JSON logs, span drops."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from pathlib import Path

import pytest
from aiinfra_shared.procs.ports import free_port
from opentelemetry import baggage, context, trace
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from obsstack.exemplars import (
    ExemplarStore,
    MultiProcessExemplarCollector,
    bucket_for,
    read_exemplars,
)
from obsstack.telemetry import LATENCY_BUCKETS, CountingExporter, RedMetrics, TraceJsonFormatter


def _worker(directory: str, trace_id: str, seconds: float) -> None:
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == directory
    metrics = RedMetrics("gateway")
    for _ in range(3):
        metrics.observe("/predict", 200, seconds, trace_id)
    assert metrics.store is not None
    metrics.store.flush()


def _exemplars(registry: CollectorRegistry) -> dict[str, str]:
    """le -> exemplar trace id of the gateway duration buckets."""
    text = openmetrics(registry).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_bucket") and sample.exemplar is not None:
                out[sample.labels["le"]] = sample.exemplar.labels["trace_id"]
    return out


@pytest.mark.points(8)
def test_multiprocess_exemplars_from_every_worker_are_merged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # set before the spawned workers import prometheus_client (it picks the mode on import)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_worker, args=(str(tmp_path), tid, secs))
               for tid, secs in (("a" * 32, 0.003), ("b" * 32, 0.2))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    assert len(list(tmp_path.glob("exemplars_*.json"))) == 2
    registry = CollectorRegistry()
    registry.register(MultiProcessExemplarCollector(tmp_path))  # type: ignore[arg-type]
    found = _exemplars(registry)
    assert found == {"0.005": "a" * 32, "0.25": "b" * 32}
    text = openmetrics(registry).decode()
    # the counts themselves are the multiprocess sums of both workers
    assert 'obsstack_http_requests_total{code="200",route="/predict",service="gateway"} 6.0' in text


@pytest.mark.points(3)
@pytest.mark.hidden
def test_newest_exemplar_wins_across_processes(tmp_path: Path) -> None:
    first = ExemplarStore(tmp_path)
    first.path = tmp_path / "exemplars_1.json"
    second = ExemplarStore(tmp_path)
    second.path = tmp_path / "exemplars_2.json"
    buckets = (*LATENCY_BUCKETS, float("inf"))
    first.record("m", {"service": "s"}, 0.07, buckets, {"trace_id": "old"})
    first.flush()
    second.record("m", {"service": "s"}, 0.08, buckets, {"trace_id": "new"})
    second.flush()
    merged = read_exemplars(tmp_path)
    (key, exemplar), = merged.items()
    assert key == ("m", (("service", "s"),), "0.1")
    assert exemplar.labels == {"trace_id": "new"}
    (tmp_path / "exemplars_3.json").write_text("{not json")  # unreadable: skipped
    assert len(read_exemplars(tmp_path)) == 1


@pytest.mark.points(2)
def test_bucket_for_matches_client_python_labels() -> None:
    buckets = (0.1, 0.5, float("inf"))
    assert bucket_for(0.1, buckets) == "0.1"
    assert bucket_for(0.2, buckets) == "0.5"
    assert bucket_for(9.0, buckets) == "+Inf"


@pytest.mark.points(3)
def test_single_process_red_metrics_carry_exemplars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    registry = CollectorRegistry()
    metrics = RedMetrics("model", registry=registry)
    metrics.observe("/predict", 500, 0.04, "c" * 32)
    metrics.observe("/predict", 200, 0.04, None)
    assert _exemplars(registry) == {"0.05": "c" * 32}
    assert registry.get_sample_value("obsstack_http_requests_total", {
        "service": "model", "route": "/predict", "code": "500"}) == 1
    assert registry.get_sample_value("obsstack_telemetry_dropped_spans_total",
                                     {"service": "model"}) == 0


@pytest.mark.points(4)
def test_json_log_lines_carry_trace_span_and_baggage() -> None:
    provider = TracerProvider()
    tracer = provider.get_tracer("t")
    formatter = TraceJsonFormatter("features")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "lookup %s", ("u1",), None)
    record.fields = {"route": "/score", "code": 502}
    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with tracer.start_as_current_span("s") as span:
            line = json.loads(formatter.format(record))
            ctx = span.get_span_context()
    finally:
        context.detach(token)
    assert line["trace_id"] == f"{ctx.trace_id:032x}"
    assert line["span_id"] == f"{ctx.span_id:016x}"
    assert line | {"@timestamp": "", "trace_id": "", "span_id": ""} == {
        "@timestamp": "", "level": "error", "service": "features", "message": "lookup u1",
        "logger": "x", "trace_id": "", "span_id": "", "tenant": "acme", "route": "/score",
        "code": 502}
    assert line["@timestamp"].endswith("Z")
    outside = json.loads(formatter.format(record))
    assert outside["trace_id"] == "" and "tenant" not in outside


@pytest.mark.points(4)
def test_spans_that_cannot_be_exported_are_counted() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    dropped: list[int] = []
    exporter = CountingExporter(OTLPSpanExporter(
        endpoint=f"http://127.0.0.1:{free_port()}/v1/traces", timeout=0.5), dropped.append)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("lost"):
        pass
    assert dropped == [1]
    assert trace.get_tracer_provider() is not provider  # the global one was not touched
