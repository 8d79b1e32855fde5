"""Trace decoding, service graph, critical path and tail sampling (no servers)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from meshobs.traces import graph, sampling
from meshobs.traces.decode import DecodeError, decode_otlp, decode_zipkin
from meshobs.traces.model import Span
from meshobs.traces.server import create_app
from meshobs.traces.store import TraceStore

MS = 1_000_000


def span(trace: str, span_id: str, parent: str, service: str, start_ms: int, end_ms: int,
         error: bool = False, kind: str = "SERVER") -> Span:
    return Span(trace.rjust(32, "0"), span_id.rjust(16, "0"), parent.rjust(16, "0")
                if parent else "", service, f"{service} op", kind, start_ms * MS,
                end_ms * MS, error)


def chain(trace: str, model_ms: int = 40, error: bool = False) -> list[Span]:
    """gateway SERVER(0-100) -> CLIENT(10-90) -> model SERVER(12-12+m) -> features(20-30)."""
    return [span(trace, "1", "", "gateway", 0, 100),
            span(trace, "2", "1", "gateway", 10, 90, kind="CLIENT"),
            span(trace, "3", "2", "model", 12, 12 + model_ms, error=error),
            span(trace, "4", "3", "features", 20, 30)]


def sdk_spans() -> list[ReadableSpan]:
    """Real SDK spans of two services in one trace (what the demo services export)."""
    out: list[ReadableSpan] = []
    parent_ctx = None
    for service in ("gateway", "model"):
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("t")
        with tracer.start_as_current_span("POST /predict", context=parent_ctx,
                                          kind=SpanKind.SERVER) as current:
            if service == "model":
                current.set_status(Status(StatusCode.ERROR, "boom"))
            from opentelemetry import trace as api

            parent_ctx = api.set_span_in_context(current)
        out += exporter.get_finished_spans()
    return out


@pytest.mark.points(2)
def test_otlp_protobuf_decodes_with_service_names_from_the_resource() -> None:
    body = encode_spans(sdk_spans()).SerializeToString()
    spans = decode_otlp(body)
    assert [(s.service, s.kind, s.error) for s in spans] == [
        ("gateway", "SERVER", False), ("model", "SERVER", True)]
    assert spans[0].trace_id == spans[1].trace_id and len(spans[0].trace_id) == 32
    assert spans[1].parent_id == spans[0].span_id and spans[0].parent_id == ""
    with pytest.raises(DecodeError):
        decode_otlp(b"\xff\xff not protobuf")


@pytest.mark.points(2)
def test_zipkin_v2_json_decodes_to_the_same_shape() -> None:
    body = json.dumps([
        {"traceId": "463ac35c9f6413ad48485a3953bb6124", "id": "a2fb4a1d1a96d312",
         "name": "post /predict", "kind": "SERVER", "timestamp": 1_000_000, "duration": 2500,
         "localEndpoint": {"serviceName": "gateway"}},
        {"traceId": "463ac35c9f6413ad48485a3953bb6124", "id": "b7ad6b7169203331",
         "parentId": "a2fb4a1d1a96d312", "name": "post /predict", "kind": "SERVER",
         "timestamp": 1_000_500, "duration": 1000, "localEndpoint": {"serviceName": "model"},
         "tags": {"otel.status_code": "ERROR", "error": "HTTP 500"}}]).encode()
    gateway, model = decode_zipkin(body)
    assert (gateway.service, gateway.start_ns, gateway.end_ns) == (
        "gateway", 1_000_000_000, 1_002_500_000)
    assert model.parent_id == gateway.span_id and model.error and not gateway.error
    for bad in (b"{}", b"not json", json.dumps([{"id": "1"}]).encode()):
        with pytest.raises(DecodeError):
            decode_zipkin(bad)


@pytest.mark.points(3)
def test_service_graph_edges_with_rate_errors_and_p95() -> None:
    spans: list[Span] = []
    for i in range(20):  # model latencies 10, 20, ..., 200 ms; every 5th request fails
        spans += chain(f"{i + 1:x}", model_ms=10 * (i + 1), error=i % 5 == 0)
    edges = {(e.source, e.target): e for e in graph.edges(graph.observations(spans), 10.0)}
    assert set(edges) == {("gateway", "model"), ("model", "features")}
    model = edges[("gateway", "model")]
    assert (model.requests, model.errors, model.rate_per_s, model.error_rate) == (
        20, 4, 2.0, 0.2)
    assert model.p95_ms == 190.0  # nearest rank: ceil(0.95 * 20) = 19th of 10..200
    assert edges[("model", "features")].p95_ms == 10.0


@pytest.mark.points(2)
def test_critical_path_follows_the_last_finishing_child() -> None:
    spans = chain("a")
    spans.append(span("a", "5", "1", "gateway", 5, 8, kind="INTERNAL"))  # early, short
    path = graph.critical_path(spans)
    assert [p.span_id[-1] for p in path] == ["1", "2", "3", "4"]
    assert [p.self_ms for p in path] == [20.0, 40.0, 30.0, 10.0]
    assert graph.critical_path([]) == []


@pytest.mark.points(2)
def test_tail_sampling_keeps_errors_and_slow_traces() -> None:
    policy = sampling.TailPolicy(slow_ms=150, keep_percent=0)
    assert sampling.decide(chain("1", error=True), policy) == sampling.Decision(True, "error")
    slow = [*chain("2"), span("2", "9", "1", "gateway", 90, 200)]
    assert sampling.decide(slow, policy) == sampling.Decision(True, "slow")
    assert sampling.decide(chain("3"), policy) == sampling.Decision(False, "dropped")
    everything = sampling.TailPolicy(slow_ms=150, keep_percent=100)
    assert sampling.decide(chain("3"), everything).reason == "sampled"
    half = sampling.TailPolicy(slow_ms=1e9, keep_percent=50)
    kept = sum(sampling.decide(chain(f"{i:x}"), half).keep for i in range(1, 401))
    assert 160 < kept < 240  # deterministic per trace id, about half overall
    assert sampling.decide(chain("7"), half) == sampling.decide(chain("7"), half)


@pytest.mark.points(3)
def test_store_counts_dropped_traces_in_the_graph() -> None:
    store = TraceStore(":memory:")
    now = 1_000.0
    store.ingest(chain("1", error=True) + chain("2") + chain("3"), now=now)
    policy = sampling.TailPolicy(slow_ms=1e9, keep_percent=0, decision_wait_s=2)
    assert store.apply_tail_sampling(policy, now=now + 1) == {}  # not complete yet
    assert store.apply_tail_sampling(policy, now=now + 3) == {"error": 1, "dropped": 2}
    assert store.counts()["traces"] == 1
    assert store.trace("0" * 31 + "2") == []
    assert len(store.trace("0" * 31 + "1")) == 4
    edges = {(e.source, e.target): e for e in store.service_graph(1e9, now=now)}
    assert edges[("gateway", "model")].requests == 3  # dropped traces still counted
    assert edges[("gateway", "model")].errors == 1
    store.ingest(chain("4"), now=now + 4)  # undecided: counted from its spans
    edges = {(e.source, e.target): e for e in store.service_graph(1e9, now=now)}
    assert edges[("gateway", "model")].requests == 4


@pytest.mark.points(2)
@pytest.mark.hidden
def test_collector_http_api() -> None:
    store = TraceStore(":memory:")
    app = create_app(store, sampling.TailPolicy(), sample_every=None)
    with TestClient(app) as client:
        body = encode_spans(sdk_spans()).SerializeToString()
        ok = client.post("/v1/traces", content=body,
                         headers={"content-type": "application/x-protobuf"})
        assert ok.status_code == 200
        assert client.post("/v1/traces", content=b"{}",
                           headers={"content-type": "application/json"}).status_code == 415
        assert client.post("/v1/traces", content=b"\xff\xff",
                           headers={"content-type": "application/x-protobuf"}
                           ).status_code == 400
        assert client.post("/api/v2/spans", content=b"[]").status_code == 202
        assert client.post("/api/v2/spans", content=b"{").status_code == 400
        listed = client.get("/api/traces").json()
        assert listed["stored_spans"] == 2 and listed["traces"][0]["error"] is True
        trace_id = listed["traces"][0]["trace_id"]
        assert len(client.get(f"/api/traces/{trace_id}").json()["spans"]) == 2
        assert client.get("/api/traces/" + "0" * 32).status_code == 404
        assert client.get("/api/graph", params={"window": 0}).status_code == 400
        edges = client.get("/api/graph", params={"window": 1e9}).json()["edges"]
        assert [(e["source"], e["target"], e["errors"]) for e in edges] == [
            ("gateway", "model", 1)]
        assert 'meshobs_collector_spans_total{format="otlp"} 2.0' in client.get(
            "/metrics").text
