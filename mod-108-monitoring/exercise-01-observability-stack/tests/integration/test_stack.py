"""End to end over real processes: one trace over three services, exemplars in Prometheus
that name traces the receiver got, the trace's logs in Elasticsearch, every dashboard query
answering, and injected errors paging through Alertmanager (the ticket inhibited)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from obsstack import dashboards
from obsstack.logsearch import LogSearch
from obsstack.stack import query_exemplars
from obsstack.traffic import run_traffic, set_faults

from .conftest import PREFIX, SPEC_PATH, Stack

pytestmark = pytest.mark.integration
EXE = str(Path(sys.executable).parent / "obsstack")


def _predict(stack: Stack, entity: str, tenant: str = "acme") -> dict[str, Any]:
    response = httpx.post(f"{stack.urls['gateway']}/predict",
                          json={"entity_id": entity, "tenant": tenant}, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _trace(stack: Stack, trace_id: str, count: int = 7,
           names: dict[str, int] | None = None) -> list[Any]:
    """The trace's spans once `count` have arrived and, for each of `names`, that many of that
    name (processes export in their own batches, so a total alone can be reached early)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        spans = [s for s in stack.otlp.spans if s.trace_id == trace_id]
        if len(spans) >= count and all(sum(s.name == n for s in spans) >= k
                                       for n, k in (names or {}).items()):
            return spans
        time.sleep(0.2)
    names = [s.name for s in stack.otlp.spans if s.trace_id == trace_id]
    raise AssertionError(f"trace {trace_id}: {names}")


@pytest.mark.points(8)
def test_one_request_is_one_trace_over_three_processes(stack: Stack) -> None:
    body = _predict(stack, "trace-me", tenant="tenant-42")
    spans = _trace(stack, body["trace_id"])
    by_id = {s.span_id: s for s in spans}
    roots = [s for s in spans if s.is_root]
    assert len(roots) == 1 and roots[0].kind == "SERVER" and roots[0].name == "POST /predict"
    # every span's parent is in the same trace: no broken links between processes
    assert all(s.parent_span_id in by_id for s in spans if not s.is_root)

    def chain(span: Any) -> list[str]:
        names = []
        while span is not None:
            names.append(f"{span.kind}:{span.name}")
            span = by_id.get(span.parent_span_id)
        return names

    inference = next(s for s in spans if s.name == "model.inference")
    assert chain(inference) == ["INTERNAL:model.inference", "SERVER:POST /predict",
                                "CLIENT:POST", "SERVER:POST /score", "CLIENT:POST",
                                "SERVER:POST /predict"]
    assert inference.attributes["model.version"] == "v1"
    assert inference.attributes["model.framework"] == "scikit-learn"
    assert inference.attributes["model.prediction"] in (0, 1)
    lookup = next(s for s in spans if s.name == "feature.lookup")
    assert lookup.attributes["feature.entity_id"] == "trace-me"
    assert lookup.attributes["feature.count"] == 8
    # W3C baggage crossed both hops
    assert inference.attributes["baggage.tenant"] == "tenant-42"
    assert lookup.attributes["baggage.tenant"] == "tenant-42"


@pytest.mark.points(8)
def test_exemplars_in_prometheus_name_traces_the_receiver_got(stack: Stack) -> None:
    stats = run_traffic(stack.urls["gateway"], rate=0, count=20)
    assert stats.codes[200] == 20
    query = 'obsstack_http_request_duration_seconds_bucket{service="gateway"}'

    def found() -> set[str]:
        ids = {e["trace_id"] for e in query_exemplars(stack.prometheus.url, query)}
        return ids & set(stats.trace_ids)

    deadline = time.monotonic() + 30
    while not found() and time.monotonic() < deadline:
        time.sleep(0.5)
    ids = found()
    assert ids, "no exemplar of this traffic reached Prometheus"
    received = {s.trace_id for s in stack.otlp.spans}
    deadline = time.monotonic() + 15
    while not ids <= received and time.monotonic() < deadline:
        time.sleep(0.3)
        received = {s.trace_id for s in stack.otlp.spans}
    assert ids <= received
    # the gateway runs 2 workers: the exemplar came through the multiprocess store
    assert list((stack.work_dir / "metrics-gateway").glob("exemplars_*.json"))


@pytest.mark.points(6)
def test_the_logs_of_a_trace_are_found_by_trace_id(stack: Stack) -> None:
    trace_id = _predict(stack, "log-me")["trace_id"]
    search = LogSearch(stack.elasticsearch.url, PREFIX)
    lines: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while len(lines) < 3 and time.monotonic() < deadline:
        search.refresh()
        lines = search.by_trace(trace_id)
        time.sleep(0.3)
    assert sorted(x["service"] for x in lines) == ["features", "gateway", "model"]
    assert all(x["trace_id"] == trace_id and len(x["span_id"]) == 16 for x in lines)
    assert {x["tenant"] for x in lines} == {"acme"}
    # the CLI finds them too
    result = subprocess.run([EXE, "logs", "--trace-id", trace_id, "--json",
                             "--elasticsearch-url", stack.elasticsearch.url],
                            capture_output=True, text=True, check=False,
                            env={"OBSSTACK_INDEX_PREFIX": PREFIX, "PATH": ""})
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 3


@pytest.mark.points(5)
def test_the_batch_job_is_one_trace_into_the_services(stack: Stack, tmp_path: Path) -> None:
    entities = tmp_path / "entities.txt"
    entities.write_text("# nightly\n" + "".join(f"batch-{i}\n" for i in range(7)))
    out = tmp_path / "scores.jsonl"
    env = {"OBSSTACK_FEATURES_URL": stack.urls["features"],
           "OBSSTACK_OTLP_ENDPOINT": stack.otlp.endpoint,
           "OBSSTACK_LOG_DIR": str(tmp_path / "logs"), "PATH": ""}
    result = subprocess.run([EXE, "batch", str(entities), "--out", str(out),
                             "--chunk-size", "3"], capture_output=True, text=True,
                            check=False, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["entity_id"] for r in rows] == [f"batch-{i}" for i in range(7)]
    assert all(r["prediction"] in (0, 1) for r in rows) and summary["scored"] == 7
    spans = _trace(stack, summary["trace_id"], count=1 + 3 + 7 * 5,
                   names={"batch.chunk": 3, "model.inference": 7})
    root = next(s for s in spans if s.is_root)
    assert root.name == "batch.score" and root.attributes["batch.size"] == 7
    assert len([s for s in spans if s.name == "batch.chunk"]) == 3
    assert len([s for s in spans if s.name == "model.inference"]) == 7


@pytest.mark.points(6)
def test_every_dashboard_query_runs_without_error(stack: Stack) -> None:
    run_traffic(stack.urls["gateway"], rate=0, count=5)
    kinds = set()
    for uid, board in dashboards.all_dashboards().items():
        for query in dashboards.panel_queries(dashboards.to_json(board)):
            kinds.add(query.kind)
            if query.kind == "promql":
                response = httpx.get(f"{stack.prometheus.url}/api/v1/query",
                                     params={"query": query.query}, timeout=10)
                assert response.status_code == 200, (uid, query.panel, response.text)
                assert response.json()["status"] == "success"
            elif query.kind == "elasticsearch":
                response = httpx.post(f"{stack.elasticsearch.url}/{PREFIX}-*/_search",
                                      json=query.query, timeout=10)
                assert response.status_code == 200, (uid, query.panel, response.text)
    assert kinds == {"promql", "elasticsearch", "tempo"}
    # the RED queries return data for the three services
    rate = dashboards.panel_queries(dashboards.to_json(dashboards.red_dashboard()))[0].query
    deadline = time.monotonic() + 20
    services: set[str] = set()
    while services != {"gateway", "features", "model"} and time.monotonic() < deadline:
        services = {r["metric"]["service"] for r in stack.prometheus.query(rate)}
        time.sleep(0.5)
    assert services == {"gateway", "features", "model"}


@pytest.mark.points(12)
def test_injected_errors_page_through_alertmanager_and_the_ticket_is_inhibited(
        stack: Stack) -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=run_traffic, kwargs={
        "gateway_url": stack.urls["gateway"], "rate": 20, "stop": stop}, daemon=True)
    thread.start()
    set_faults(stack.urls["model"], 0.6, 0)
    try:
        notifications: list[dict[str, Any]] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            notifications = stack.receiver_app.state.alerts.notifications
            if any(n["receiver"] == "page" and n["labels"].get("slo") == "availability"
                   for n in notifications):
                break
            time.sleep(0.5)
        page = [n for n in notifications if n["receiver"] == "page"
                and n["labels"].get("slo") == "availability"]
        assert page, notifications
        assert page[0]["labels"]["alertname"] == "GatewayAvailabilitySLO"
        assert page[0]["status"] == "firing"
        # Prometheus fires the ticket too (3x over 24m/2m) ...
        firing = {a["labels"]["severity"] for a in stack.prometheus.alerts()
                  if a["labels"].get("slo") == "availability" and a["state"] == "firing"}
        assert "page" in firing
        deadline = time.monotonic() + 20
        while "ticket" not in firing and time.monotonic() < deadline:
            time.sleep(0.5)
            firing = {a["labels"]["severity"] for a in stack.prometheus.alerts()
                      if a["labels"].get("slo") == "availability" and a["state"] == "firing"}
        assert "ticket" in firing
        time.sleep(3)  # more than group_interval: a ticket would have been sent by now
        # ... but Alertmanager's inhibition keeps it from the ticket receiver
        assert not [n for n in stack.receiver_app.state.alerts.notifications
                    if n["receiver"] == "ticket" and n["labels"].get("slo") == "availability"]
        muted = httpx.get(f"{stack.alertmanager.url}/api/v2/alerts",
                          params={"inhibited": "true"}, timeout=10).json()
        assert any(a["labels"].get("severity") == "ticket" and a["status"]["inhibitedBy"]
                   for a in muted)
        # the SLO report reads the burn from Prometheus' API
        spec_12h = stack.work_dir / "slos-12h.yaml"
        spec_12h.write_text(SPEC_PATH.read_text().replace("time_window: 30d",
                                                          "time_window: 12h"))
        result = subprocess.run([EXE, "slo", "report", str(spec_12h), "--json",
                                 "--prometheus-url", stack.prometheus.url],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        rows = {r["slo"]: r for r in json.loads(result.stdout)}
        assert rows["availability"]["burn_rate"] > 14.4
        assert "page" in rows["availability"]["firing"]
        assert rows["availability"]["attainment"] < 0.999
    finally:
        set_faults(stack.urls["model"], 0, 0)
        stop.set()
        thread.join(timeout=10)
