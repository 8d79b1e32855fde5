"""Alert rules and the dashboard as code; committed deploy/ files equal the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from meshobs.observability import alert_rules, dashboard, panel_queries

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KNOWN_METRICS = {
    "meshobs_requests_total", "meshobs_request_duration_seconds_bucket",
    "haproxy_server_http_responses_total", "meshobs_canary_weight",
    "meshobs_analysis_check_value", "meshobs_workload_cert_expiry_timestamp_seconds",
    "meshobs_collector_spans_total", "meshobs_rollouts_total", "meshobs_analysis_check_passed",
}


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (every metric here is meshobs_* or haproxy_*)."""
    return set(re.findall(r"\b(?:meshobs|haproxy)_[a-z0-9_]+\b", expr))


@pytest.mark.points(2)
def test_dashboard_structure() -> None:
    board = dashboard()
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) == 7
    titles = {p["title"] for p in board["panels"]}
    assert {"Canary weight", "Workload certificate time to expiry",
            "p99 latency by version"} <= titles
    cells = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps"
                cells.add((x, y))
        assert panel["datasource"]["uid"] == "${datasource}"
    variables = {v["name"] for v in board["templating"]["list"]}
    assert variables == {"datasource", "service"}
    for _title, query in panel_queries(board, "model"):
        assert "$" not in query
        assert metric_names(query) and metric_names(query) <= KNOWN_METRICS, query


@pytest.mark.points(1)
def test_every_alert_has_severity_summary_and_known_metrics() -> None:
    for rule in alert_rules()["groups"][0]["rules"]:
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert rule["annotations"]["summary"]
        assert metric_names(rule["expr"]) and metric_names(rule["expr"]) <= KNOWN_METRICS
    fast = {r["alert"]: r.get("for") for r in alert_rules(fast=True)["groups"][0]["rules"]}
    assert fast["MeshHighErrorRate"] == "2s"


@pytest.mark.points(1)
def test_committed_deploy_files_match_the_code() -> None:
    assert yaml.safe_load((DEPLOY / "prometheus/meshobs_alerts.yml").read_text()) == \
        alert_rules()
    assert json.loads((DEPLOY / "grafana/meshobs-rollouts.json").read_text()) == dashboard()


@pytest.mark.points(1)
@pytest.mark.hidden
def test_tracing_backends_take_otlp_http_and_zipkin() -> None:
    tempo = yaml.safe_load((DEPLOY / "tracing/tempo.yaml").read_text())
    receivers = tempo["distributor"]["receivers"]
    assert receivers["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert "zipkin" in receivers
    assert "service-graphs" in tempo["overrides"]["defaults"]["metrics_generator"][
        "processors"]
    jaeger = yaml.safe_load((DEPLOY / "tracing/jaeger.yaml").read_text())
    assert jaeger["service"]["pipelines"]["traces"]["receivers"] == ["otlp", "zipkin"]
    policies = {p["type"] for p in jaeger["processors"]["tail_sampling"]["policies"]}
    assert policies == {"status_code", "latency", "probabilistic"}
