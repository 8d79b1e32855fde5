"""Dashboards as code: lint, the SDK's round trip, provisioning, query extraction."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from obsstack import dashboards

DEPLOY = Path(__file__).parents[2] / "deploy"


@pytest.mark.points(3)
def test_dashboards_lint_clean_and_round_trip_through_the_sdk_models() -> None:
    boards = dashboards.all_dashboards()
    assert set(boards) == {"obsstack-red", "obsstack-slo", "obsstack-logs"}
    for board in boards.values():
        data = dashboards.to_json(board)
        assert dashboards.lint(data) == []
        assert dashboards.to_json(dashboards.from_json(data)) == data


@pytest.mark.points(3)
def test_correlation_exemplars_and_trace_links() -> None:
    red = dashboards.to_json(dashboards.red_dashboard())
    latency = next(p for p in red["panels"] if p["title"].startswith("Latency"))
    assert latency["targets"][0]["exemplar"] is True
    assert "histogram_quantile(0.95" in latency["targets"][0]["expr"]
    logs = dashboards.to_json(dashboards.logs_dashboard())
    types = {p["type"] for p in logs["panels"]}
    assert {"logs", "traces"} <= types
    assert any(p["targets"][0].get("query") == "trace_id:$trace_id" for p in logs["panels"])
    sources = dashboards.provisioning()["datasources/obsstack.yml"]["datasources"]
    prom = next(s for s in sources if s["type"] == "prometheus")
    assert prom["jsonData"]["exemplarTraceIdDestinations"][0]["datasourceUid"] == "tempo"
    es = next(s for s in sources if s["type"] == "elasticsearch")
    assert es["jsonData"]["dataLinks"][0]["field"] == "trace_id"


@pytest.mark.points(4)
@pytest.mark.hidden
def test_lint_catches_what_the_rules_forbid() -> None:
    data = dashboards.to_json(dashboards.red_dashboard())
    broken = copy.deepcopy(data)
    broken["panels"][0]["description"] = ""
    broken["panels"][1]["datasource"] = {"type": "prometheus", "uid": "abc123"}
    broken["panels"][2]["targets"][0]["expr"] = "rate(x[5m])"
    broken["panels"][3]["fieldConfig"]["defaults"].pop("unit")
    broken["panels"][4]["id"] = broken["panels"][0]["id"]
    broken["panels"][4]["gridPos"] = dict(broken["panels"][0]["gridPos"])
    broken["templating"]["list"] = []
    rules = {p.rule for p in dashboards.lint(broken)}
    assert rules == {"panel-title-description-rule", "panel-datasource-rule",
                     "target-rate-interval-rule", "panel-units-rule", "panel-id-unique",
                     "panel-grid-overlap", "template-datasource-rule"}


@pytest.mark.points(2)
def test_panel_queries_substitute_variables_and_translate_es_queries() -> None:
    logs = dashboards.to_json(dashboards.logs_dashboard())
    queries = dashboards.panel_queries(logs, {"trace_id": "ab" * 16})
    es = [q for q in queries if q.kind == "elasticsearch"]
    assert es[1].query["query"] == {"bool": {"filter": [{"term": {"level": "error"}}]}}
    assert es[1].query["aggs"]["2"]["terms"]["field"] == "service"
    assert "date_histogram" in es[1].query["aggs"]["2"]["aggs"]["3"]
    assert es[2].query["query"]["bool"]["filter"] == [{"term": {"trace_id": "ab" * 16}}]
    red = dashboards.panel_queries(dashboards.to_json(dashboards.red_dashboard()))
    assert all("$" not in q.query for q in red)


@pytest.mark.points(1)
def test_committed_dashboards_are_the_rendered_ones() -> None:
    for name, text in dashboards.render_dashboards().items():
        assert json.loads((DEPLOY / "grafana" / "dashboards" / name).read_text()) == \
            json.loads(text)
