"""Alerts and dashboards on the real Prometheus toolchain: promtool, amtool, a live stack."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiinfra_shared.testing import prom

from driftwatch import dashboards, rules
from driftwatch.adapters.pushgateway import push
from driftwatch.errors import UnavailableError
from driftwatch.store import Store
from tests.integration.conftest import AS_OF, Cli

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.points(3)
def test_promtool_unit_tests_of_the_alert_rules() -> None:
    prom.rule_tests_pass(DEPLOY / "prometheus" / "tests" / "alerts_test.yml")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_promtool_tests_catch_a_changed_threshold(tmp_path: Path) -> None:
    from driftwatch.policy import Policy

    (tmp_path / "tests").mkdir()
    (tmp_path / "alerts.yml").write_text(rules.dump(rules.alert_rules(Policy(drifted_share=0.6))))
    test_file = tmp_path / "tests" / "alerts_test.yml"
    test_file.write_text((DEPLOY / "prometheus" / "tests" / "alerts_test.yml").read_text())
    prom.rule_tests_fail(test_file, mentioning=["DriftwatchDataDrift"])


@pytest.mark.points(1)
@pytest.mark.parametrize(("labels", "receiver"), [
    (["severity=critical", "alertname=DriftwatchJobStale"], "ml-oncall"),
    (["severity=warning", "alertname=DriftwatchDataDrift"], "ml-team"),
])
@pytest.mark.points(1)
def test_alertmanager_routes(labels: list[str], receiver: str) -> None:
    assert prom.amtool_route(DEPLOY / "alertmanager" / "alertmanager.yml", *labels) == receiver


@pytest.fixture(scope="module")
def stack(week: Path, reference_home: Path, pushgateway: Any,
          prometheus_factory: Callable[..., Any], alertmanager_factory: Callable[..., Any],
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`driftwatch backfill` up to the drifted day pushes to the Pushgateway; Prometheus
    scrapes it with our rules and sends alerts to an Alertmanager with our routes."""
    alertmanager = alertmanager_factory(rules.alertmanager_config())
    home = tmp_path_factory.mktemp("alerting") / "home"
    shutil.copytree(reference_home, home)
    cli = Cli(home, {"DRIFTWATCH_EVIDENTLY__ENABLED": "false",
                     "DRIFTWATCH_PUSHGATEWAY_URL": pushgateway.url})
    result = cli.invoke("backfill", "--predictions", str(week / "predictions.jsonl"),
                        "--labels", str(week / "labels.jsonl"), "--as-of", AS_OF.isoformat(),
                        "--to", "2026-05-04")
    assert result.exit_code == 0 and "pushed the latest window" in result.output, result.output
    drifted = Store(home).results("credit_default")[-1]
    assert drifted.drifted_columns  # the covariate-drift day is the latest one pushed
    config = rules.prometheus_config(pushgateway.url.removeprefix("http://"),
                                     alertmanager.url.removeprefix("http://"), interval="1s")
    prometheus = prometheus_factory(config, rule_files={
        "alerts.yml": (DEPLOY / "prometheus" / "alerts.yml").read_text()})
    return {"prometheus": prometheus, "alertmanager": alertmanager, "window": drifted}


@pytest.mark.points(4)
def test_pushed_drift_fires_in_prometheus_and_reaches_alertmanager(
        stack: dict[str, Any], wait_for: Callable[..., Any]) -> None:
    prometheus, alertmanager = stack["prometheus"], stack["alertmanager"]

    def firing() -> list[dict[str, Any]]:
        return [a for a in prometheus.alerts()
                if a["labels"]["alertname"] == "DriftwatchDataDrift" and a["state"] == "firing"]

    alert = wait_for(firing, timeout=60)[0]
    assert alert["labels"]["model"] == "credit_default" and alert["labels"]["version"] == "1"
    received = wait_for(lambda: [a for a in alertmanager.alerts()
                                 if a["labels"]["alertname"] == "DriftwatchDataDrift"],
                        timeout=60)[0]
    assert [r["name"] for r in received["receivers"]] == ["ml-team"]
    quiet = {a["labels"]["alertname"] for a in prometheus.alerts()}
    assert "DriftwatchJobStale" not in quiet and "DriftwatchInsufficientData" not in quiet


@pytest.mark.points(3)
def test_every_dashboard_panel_query_returns_data(stack: dict[str, Any],
                                                  wait_for: Callable[..., Any]) -> None:
    prometheus = stack["prometheus"]
    wait_for(lambda: prometheus.query("driftwatch_window_rows"), timeout=60)
    prom.assert_panels_return_data(prometheus.url, dashboards.build())
    shares = prometheus.query("driftwatch_drifted_columns_share")
    assert float(shares[0]["value"][1]) == pytest.approx(stack["window"].drifted_share)


@pytest.mark.points(1)
def test_pushgateway_unreachable_is_a_clean_error(free_port: int) -> None:
    from prometheus_client import CollectorRegistry

    with pytest.raises(UnavailableError, match=r"Pushgateway at .* is not reachable"):
        push(f"http://127.0.0.1:{free_port}", CollectorRegistry(), "m", "1", timeout=2)


@pytest.mark.points(1)
def test_rendered_prometheus_config_is_valid(tmp_path: Path) -> None:
    (tmp_path / "alerts.yml").write_text((DEPLOY / "prometheus" / "alerts.yml").read_text())
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(
        rules.prometheus_config("127.0.0.1:9091", "127.0.0.1:9093")))
    prom.check_config("prometheus.yml", cwd=tmp_path)
