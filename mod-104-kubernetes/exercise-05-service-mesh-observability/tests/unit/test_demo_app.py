"""The demo workload apps in process: identity check, fault knobs, RED metrics, spans."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest

from meshobs.demo.app import (
    Faults,
    Metrics,
    ServiceConfig,
    caller_identity,
    create_admin_app,
    create_app,
    features_of,
)
from meshobs.demo.peers import PeerTable

MODEL = "spiffe://cluster.local/ns/serving/sa/model"
CLIENT = ("testclient", 50000)  # the address Starlette's TestClient connects from


def features_app(peers: PeerTable, faults: Faults | None = None
                 ) -> tuple[TestClient, Metrics, InMemorySpanExporter, ServiceConfig]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    metrics = Metrics(CollectorRegistry())
    config = ServiceConfig(role="features", version="v1", allowed_callers=[MODEL],
                           faults=faults or Faults())
    return TestClient(create_app(config, provider, metrics, peers)), metrics, exporter, config


def peer(uri: str) -> dict[str, object]:
    return {"subjectAltName": (("URI", uri), ("DNS", "localhost"))}


@pytest.mark.points(2)
def test_only_allowed_spiffe_ids_get_through() -> None:
    peers = PeerTable()
    client, metrics, _spans, _config = features_app(peers)
    denied = client.get("/features/alice")
    assert denied.status_code == 403 and denied.json()["principal"] is None
    peers.record(CLIENT, peer("spiffe://cluster.local/ns/serving/sa/gateway"))
    assert client.get("/features/alice").status_code == 403
    peers.record(CLIENT, peer(MODEL))
    ok = client.get("/features/alice")
    assert ok.status_code == 200 and ok.json()["features"] == features_of("alice")
    exposition = generate_latest(metrics.registry).decode()
    assert ('meshobs_requests_total{code="403",service="features",version="v1"} 2.0'
            in exposition)
    assert 'meshobs_authz_denied_total{principal="none",service="features"} 1.0' in exposition
    peers.forget(CLIENT)
    assert len(peers) == 0


@pytest.mark.points(2)
def test_fault_knobs_and_error_spans() -> None:
    peers = PeerTable()
    peers.record(CLIENT, peer(MODEL))
    client, metrics, spans, config = features_app(peers, Faults(error_rate=1.0))
    failed = client.get("/features/bob", headers={
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    assert failed.status_code == 500 and failed.json()["error"] == "injected fault"
    (span,) = spans.get_finished_spans()
    assert span.status.status_code.name == "ERROR"
    assert format(span.context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span.parent is not None and format(span.parent.span_id, "016x") == \
        "00f067aa0ba902b7"
    assert client.get("/healthz").status_code == 200  # health is never faulted
    admin = TestClient(create_admin_app(config, metrics))
    assert admin.put("/admin/faults", json={"error_rate": 0}).status_code == 200
    assert client.get("/features/bob").status_code == 200
    assert admin.put("/admin/faults", json={"error_rate": 2}).status_code == 422
    assert "meshobs_request_duration_seconds_bucket" in admin.get("/metrics").text


@pytest.mark.points(1)
def test_caller_identity_reads_the_uri_san() -> None:
    assert caller_identity(None) is None
    assert caller_identity({}) is None
    assert caller_identity(peer(MODEL)) == MODEL
    assert caller_identity({"subjectAltName": (("URI", "https://x"),)}) is None
