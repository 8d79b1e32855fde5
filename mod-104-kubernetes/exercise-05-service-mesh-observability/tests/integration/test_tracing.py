"""One request, one trace across three services: in oteltap (an independent collector) and
in meshobs' own collector, which also derives the service graph; Zipkin gives the same graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from meshobs.loadgen import send

from .conftest import Live

pytestmark = pytest.mark.integration


def trace_of(url: str, trace_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/api/traces/{trace_id}", timeout=5)
    return response.json()["spans"] if response.status_code == 200 else []


@pytest.mark.points(6)
def test_one_request_gives_one_trace_across_three_services(
        live: Live, reset_model: Callable[[], None], wait_for: Callable[..., Any]) -> None:
    live.oteltap.clear()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = httpx.post(f"{live.stack.gateway_url}/predict", json={"entity": "traced"},
                          headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
                          timeout=10)
    assert response.status_code == 200
    # oteltap: five spans of that trace, parent links forming the chain
    # gateway SERVER -> CLIENT -> model SERVER -> CLIENT -> features SERVER.
    wait_for(lambda: len([s for s in live.oteltap.spans if s.trace_id == trace_id]) >= 5,
             timeout=15)
    spans = {s.span_id: s for s in live.oteltap.spans if s.trace_id == trace_id}
    assert len(spans) == 5
    leaf = next(s for s in spans.values() if s.name == "GET /features/traced")
    chain = [leaf]
    while chain[-1].parent_span_id in spans:
        chain.append(spans[chain[-1].parent_span_id])
    assert [s.kind for s in chain] == ["SERVER", "CLIENT", "SERVER", "CLIENT", "SERVER"]
    assert chain[-1].parent_span_id == "00f067aa0ba902b7"  # continued the caller's trace
    assert [s.name for s in chain[::2]] == ["GET /features/traced", "POST /predict",
                                            "POST /predict"]
    # meshobs' collector knows the services (from the OTLP resource oteltap drops).
    stored = wait_for(lambda: (lambda got: got if len(got) >= 5 else None)(
        trace_of(live.stack.collector_url, trace_id)), timeout=15)
    assert {s["service"] for s in stored} == {"gateway", "model", "features"}
    by_id = {s["span_id"]: s for s in stored}
    assert {s["span_id"]: s["parent_id"] for s in stored} == {
        s.span_id: s.parent_span_id for s in spans.values()}
    server_of = {s["service"]: s for s in stored if s["kind"] == "SERVER"}
    assert by_id[server_of["features"]["parent_id"]]["service"] == "model"
    assert by_id[server_of["model"]["parent_id"]]["service"] == "gateway"
    path = httpx.get(f"{live.stack.collector_url}/api/traces/{trace_id}/critical-path",
                     timeout=5).json()["path"]
    assert [p["service"] for p in path] == ["gateway", "gateway", "model", "model",
                                            "features"]


@pytest.mark.points(4)
def test_service_graph_is_the_same_from_otlp_and_from_zipkin(
        live: Live, reset_model: Callable[[], None], wait_for: Callable[..., Any]) -> None:
    live.stack.set_faults("features", "v1", error_rate=0.3)
    sent = send(live.stack.gateway_url, 40)
    errors = sent.errors
    assert 0 < errors < 40

    def graph(url: str) -> dict[tuple[str, str], tuple[int, int]]:
        edges = httpx.get(f"{url}/api/graph", params={"window": 3600}, timeout=5
                          ).json()["edges"]
        return {(e["source"], e["target"]): (e["requests"], e["errors"]) for e in edges}

    def settled() -> dict[tuple[str, str], tuple[int, int]] | None:
        otlp, zipkin = graph(live.stack.collector_url), graph(live.zipkin_url)
        return otlp if otlp == zipkin and otlp.get(("model", "features"), (0, 0))[1] else None

    same = wait_for(settled, timeout=20, interval=0.5)
    assert set(same) == {("gateway", "model"), ("model", "features")}
    # features is the only faulty service: each of its errors is an error of model above it
    assert same[("gateway", "model")][1] >= same[("model", "features")][1] > 0
