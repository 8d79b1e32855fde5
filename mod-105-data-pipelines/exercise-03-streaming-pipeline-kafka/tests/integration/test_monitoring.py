"""Alert rules (promtool), routing (amtool, Alertmanager), the lag alert live, every panel."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.testing import prom
from prometheus_client import REGISTRY

from streamml import monitoring
from streamml.metrics import LagCollector, LagTarget, serve_metrics
from tests.integration.conftest import PipelineRun

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
@pytest.mark.points(3)
def test_promtool_unit_tests_of_the_alert_rules() -> None:
    prom.rule_tests_pass("tests/alerts_test.yml", cwd=DEPLOY / "prometheus")
    check = prom.check_config("prometheus.yml", cwd=DEPLOY / "prometheus")
    assert "SUCCESS: 5 rules found" in check.stdout, check.stdout


@pytest.mark.points(2)
@pytest.mark.hidden
def test_promtool_tests_fail_when_a_threshold_is_loosened(tmp_path: Path) -> None:
    target = tmp_path / "prometheus"
    shutil.copytree(DEPLOY / "prometheus", target)
    loose = monitoring.alerting_rules(monitoring.RuleParams(lag_records=5000))
    (target / "alerting_rules.yml").write_text(yaml.safe_dump(loose))
    prom.rule_tests_fail("tests/alerts_test.yml", cwd=target,
                         mentioning=["StreamMLConsumerLagHigh"])


@pytest.mark.points(2)
def test_alertmanager_routes_page_to_oncall_and_ticket_to_tickets() -> None:
    config = str(DEPLOY / "alertmanager" / "alertmanager.yml")
    prom.check_alertmanager_config(config)
    for labels, receiver in ((["severity=page", "alertname=StreamMLConsumerLagHigh"], "oncall"),
                             (["severity=ticket"], "tickets"), (["severity=info"], "tickets")):
        routed = prom.amtool_route(config, *labels)
        assert routed == receiver, (labels, routed)


@pytest.fixture(scope="module")
def metrics_endpoint(pipeline_run: PipelineRun, kafka_broker: Any) -> Iterator[dict[str, Any]]:
    """This process's metrics (after the pipeline run) plus a lag collector, over HTTP."""
    s = pipeline_run.settings
    lag_group, lag_topic = "lag-alert-validate", f"{s.kafka.events_topic}"
    collector = LagCollector(kafka_broker.bootstrap_servers, [
        LagTarget(s.quality.group_id, s.kafka.events_topic),
        LagTarget(lag_group, lag_topic)])
    REGISTRY.register(collector)
    port = free_port()
    server = serve_metrics(port)
    yield {"target": f"127.0.0.1:{port}", "lag_group": lag_group, "lag_topic": lag_topic,
           "raw_records": sum(pipeline_run.produced.values())}
    server.shutdown()  # type: ignore[attr-defined]
    REGISTRY.unregister(collector)


@pytest.fixture(scope="module")
def prometheus(metrics_endpoint: dict[str, Any], prometheus_factory: Callable[..., Any],
               alertmanager_factory: Callable[..., Any]) -> Any:
    alertmanager = alertmanager_factory(monitoring.alertmanager_config(
        f"http://127.0.0.1:{free_port()}"))
    params = monitoring.RuleParams.fast(lag_records=100)
    server = prometheus_factory(
        monitoring.prometheus_config([metrics_endpoint["target"]],
                                     alertmanager.url.removeprefix("http://"), "1s"),
        rule_files={"alerting_rules.yml": yaml.safe_dump(monitoring.alerting_rules(params))})
    assert server.wait_for_targets_up(timeout=30), server.targets()
    server.alertmanager = alertmanager
    return server


@pytest.mark.points(6)
def test_lag_metric_equals_unconsumed_records_and_the_lag_alert_fires(
        prometheus: Any, metrics_endpoint: dict[str, Any], wait_for: Any) -> None:
    group, topic = metrics_endpoint["lag_group"], metrics_endpoint["lag_topic"]
    total = metrics_endpoint["raw_records"]  # nobody in this group has read anything
    query = f'sum(streamml_consumer_lag_records{{group="{group}",topic="{topic}"}})'
    result = wait_for(lambda: prometheus.query(query), timeout=20)
    assert float(result[0]["value"][1]) == total
    # The validate group of the pipeline run has read everything: zero lag.
    done = prometheus.query('sum(streamml_consumer_lag_records{group=~"pipe-.*-validate"})')
    assert float(done[0]["value"][1]) == 0

    def firing() -> list[dict[str, Any]]:
        return [a for a in prometheus.alerts() if a["labels"]["alertname"] ==
                "StreamMLConsumerLagHigh" and a["state"] == "firing"
                and a["labels"]["group"] == group]

    alert = wait_for(firing, timeout=30, interval=0.5)[0]
    assert alert["labels"]["severity"] == "page"
    # Alertmanager received it and routed it to the on-call receiver.
    routed = wait_for(lambda: [a for a in prometheus.alertmanager.alerts()
                               if a["labels"].get("group") == group], timeout=30)
    assert [r["name"] for r in routed[0]["receivers"]] == ["oncall"]


@pytest.mark.points(5)
def test_every_dashboard_panel_query_returns_data(prometheus: Any) -> None:
    dashboard = monitoring.dashboard()
    assert len(prom.dashboard_queries(dashboard)) == len(monitoring.PANELS) >= 10
    # rate() needs two scrapes inside its window: poll a little for the first ones.
    prom.assert_panels_return_data(prometheus.url, dashboard, wait=15, interval=0.5)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_the_lag_exporter_reports_down_when_the_broker_is_unreachable() -> None:
    collector = LagCollector("127.0.0.1:1", [LagTarget("g", "t")], timeout=1.0)
    families = {f.name: f for f in collector.collect()}
    assert families["streamml_lag_exporter_up"].samples[0].value == 0.0
    assert families["streamml_consumer_lag_records"].samples == []


