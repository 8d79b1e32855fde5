"""Rules under promtool, and every dashboard panel's query against the test Prometheus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from aiinfra_shared.testing import prom
from click.testing import CliRunner

from autoscale import monitoring
from autoscale.adapters.prometheus import PrometheusClient
from autoscale.cli import cli
from tests.helpers import ROOT
from tests.integration.conftest import BackfilledPrometheus

pytestmark = pytest.mark.integration
DEPLOY = ROOT / "deploy"


@pytest.mark.points(3)
def test_promtool_rule_tests_pass() -> None:
    prom.rule_tests_pass("tests/rules_test.yml", cwd=DEPLOY / "prometheus")
    check = prom.check_rules("recording_rules.yml", "alerting_rules.yml",
                             cwd=DEPLOY / "prometheus")
    assert "SUCCESS: 3 rules found" in check.stdout, check.stdout


@pytest.mark.points(2)
@pytest.mark.hidden
def test_promtool_tests_pin_the_thresholds(tmp_path: Path) -> None:
    """A looser forecast-error threshold or a longer `for` breaks the rule tests."""
    for params, alert in ((monitoring.RuleParams(forecast_error=1.5), "ForecastErrorHigh"),
                          (monitoring.RuleParams(at_max_for="30m"), "AutoscalerAtMaxReplicas")):
        target = tmp_path / alert
        shutil.copytree(DEPLOY / "prometheus", target)
        (target / "alerting_rules.yml").write_text(
            yaml.safe_dump(monitoring.alerting_rules(params), sort_keys=False))
        prom.rule_tests_fail("tests/rules_test.yml", cwd=target, mentioning=[alert])


@pytest.mark.points(1)
def test_committed_files_match_the_code() -> None:
    result = CliRunner().invoke(cli, ["monitoring", "--out", str(DEPLOY), "--check"])
    assert result.exit_code == 0, result.output
    dashboard = json.loads((DEPLOY / "grafana" / "autoscale-overview.json").read_text())
    assert dashboard == monitoring.dashboard()


@pytest.mark.points(3)
def test_every_dashboard_panel_returns_data(backfilled: BackfilledPrometheus) -> None:
    dashboard = monitoring.dashboard()
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) == len(monitoring.PANELS)
    prom.assert_panels_return_data(backfilled.url, dashboard, at=backfilled.history.end,
                                   window=3600, step=60, variables={"namespace": "ml-serving"},
                                   nan_is_data=False)
    with PrometheusClient(backfilled.url) as client:
        variable = dashboard["templating"]["list"][1]["query"]
        metric = variable.removeprefix("label_values(").split(",")[0]
        assert client.query(f"count by (namespace) ({metric})")


@pytest.mark.points(1)
def test_recording_rules_evaluate_on_live_data(backfilled: BackfilledPrometheus) -> None:
    """The test Prometheus loads the recording rules (healthy); the backfilled error ratio the
    SLO rules are built on is 1 %."""
    with PrometheusClient(backfilled.url) as client:
        ratio = client.scalar('sum(rate(http_requests_total{code="500"}[1h])) / '
                              'sum(rate(http_requests_total[1h]))', backfilled.history.end)
        assert ratio == pytest.approx(0.01, rel=1e-6)
        groups = client._get("/api/v1/rules", {})["groups"]
    assert [g["name"] for g in groups] == ["autoscale.recording"]
    assert all(r["health"] in ("ok", "unknown") for g in groups for r in g["rules"])
