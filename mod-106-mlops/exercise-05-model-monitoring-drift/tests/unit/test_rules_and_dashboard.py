"""Rendered monitoring-as-code: the committed deploy/ files are what the code renders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from driftwatch import dashboards, rules
from driftwatch.policy import Policy

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.points(1)
def test_committed_deploy_files_match_the_renderers() -> None:
    assert yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text()) == \
        rules.alert_rules(Policy())
    assert yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text()) == \
        rules.alertmanager_config()
    assert json.loads((DEPLOY / "grafana" / "driftwatch.json").read_text()) == dashboards.build()


@pytest.mark.points(1)
def test_alert_thresholds_follow_the_policy() -> None:
    policy = Policy(drifted_share=0.4, max_estimated_drop=0.07)
    exprs = {r["alert"]: r["expr"] for r in rules.alert_rules(policy)["groups"][0]["rules"]}
    assert exprs["DriftwatchDataDrift"].endswith(">= 0.4")
    assert exprs["DriftwatchEstimatedPerformanceDrop"].endswith(">= 0.07")
    assert "push_time_seconds" in exprs["DriftwatchJobStale"]


@pytest.mark.points(1)
def test_dashboard_is_a_grafana_11_dashboard_with_a_query_per_panel() -> None:
    board = dashboards.build()
    assert board["uid"] == "driftwatch" and board["schemaVersion"] >= 39
    queries = dashboards.panel_queries(board)
    assert len(queries) == len(board["panels"]) == len(dashboards.PANELS)
    assert all(panel["datasource"]["uid"] == "${datasource}" for panel in board["panels"])
