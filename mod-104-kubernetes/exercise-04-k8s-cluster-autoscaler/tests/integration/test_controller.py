"""The controller against kmock (Kubernetes API emulator) through the official client, with
metrics from the backfilled Prometheus.

Expected decision, by hand: at the end of the history each of web's 2 pods serves 70/s and
uses 0.7 cores of a 0.5-core request. cpu: 140 % vs 70 % -> 4; http_requests_per_second:
70 vs 17.5 -> 8; autoscale_forecast_requests_per_second: 140 / 17.5 -> 8. The largest, 8, is
capped by the policy's scaleUp behavior (max of +100 % and +4 pods per 15 s) at 6.
"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from autoscale import policyfile
from autoscale.adapters.kube import KubeAdapter
from autoscale.adapters.prometheus import PrometheusClient
from autoscale.cli import cli
from autoscale.controller import Controller
from tests.helpers import EXAMPLES, policy_dict
from tests.integration.conftest import BackfilledPrometheus

pytestmark = pytest.mark.integration
DEPLOYMENTS = "apps/v1/deployments"


def seed(api: Any, name: str = "web", replicas: int = 2) -> None:
    api.seed(DEPLOYMENTS, "ml-serving", name, {
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}}}})
    for pod in (f"{name}-a", f"{name}-b"):
        api.seed("v1/pods", "ml-serving", pod, {
            "metadata": {"labels": {"app": name}},
            "status": {"phase": "Running",
                       "conditions": [{"type": "Ready", "status": "True"}]}})


def controller(api: Any, prom: BackfilledPrometheus, apply: bool,
               policy: policyfile.PolicyFile | None = None) -> Controller:
    return Controller(policy or policyfile.load(EXAMPLES / "policy.yaml"),
                      PrometheusClient(prom.url), KubeAdapter(api.client()), apply=apply,
                      min_interval=60, clock=lambda: 1000.0,
                      query_time=lambda: float(prom.history.end))


@pytest.mark.points(4)
def test_scales_the_subresource_and_writes_an_event(k8s_api: Any,
                                                    backfilled: BackfilledPrometheus) -> None:
    seed(k8s_api)
    k8s_api.clear_requests()
    outcome = controller(k8s_api, backfilled, apply=True).sync_once()
    assert (outcome.current, outcome.desired, outcome.applied) == (2, 6, True)
    assert outcome.reason == "ScaleUpLimit"
    assert k8s_api.get(DEPLOYMENTS, "ml-serving", "web")["spec"]["replicas"] == 6
    writes = [(w.method, w.path) for w in k8s_api.writes()]
    assert writes == [("PATCH", "/apis/apps/v1/namespaces/ml-serving/deployments/web/scale"),
                      ("POST", "/api/v1/namespaces/ml-serving/events")]
    (event,) = k8s_api.list("v1/events", "ml-serving")
    assert event["reason"] == "SuccessfulRescale"
    assert event["involvedObject"]["name"] == "web"
    assert event["message"].startswith("New size: 6; reason: ScaleUpLimit")
    assert "http_requests_per_second=8" in event["message"]


@pytest.mark.points(2)
def test_dry_run_writes_nothing(k8s_api: Any, backfilled: BackfilledPrometheus) -> None:
    seed(k8s_api)
    k8s_api.clear_requests()
    outcome = controller(k8s_api, backfilled, apply=False).sync_once()
    assert (outcome.desired, outcome.applied) == (6, False)
    assert outcome.reason.startswith("DryRun")
    assert k8s_api.writes() == []
    assert k8s_api.get(DEPLOYMENTS, "ml-serving", "web")["spec"]["replicas"] == 2


@pytest.mark.points(3)
@pytest.mark.hidden
def test_missing_or_ambiguous_data_never_scales(k8s_api: Any,
                                                backfilled: BackfilledPrometheus) -> None:
    raw = policy_dict()
    raw["target"]["name"] = raw["name"] = "api"  # no series at all for api
    seed(k8s_api, "api")
    dup = policy_dict()
    dup["target"]["name"] = dup["name"] = "dup"  # its External metric has two series
    dup["hpa"]["metrics"] = [m for m in dup["hpa"]["metrics"] if m["type"] == "External"]
    dup["hpa"]["metrics"][0]["external"]["metric"]["name"] = \
        "autoscale_forecast_requests_per_second"
    seed(k8s_api, "dup")
    k8s_api.clear_requests()
    for raw_policy in (raw, dup):
        outcome = controller(k8s_api, backfilled, True, policyfile.parse(raw_policy)).sync_once()
        assert outcome.reason.startswith("MissingMetrics")
        assert not outcome.applied and outcome.desired == outcome.current == 2
    assert k8s_api.writes() == []


@pytest.mark.points(2)
def test_rate_limit_between_changes(k8s_api: Any, backfilled: BackfilledPrometheus) -> None:
    seed(k8s_api)
    loop = controller(k8s_api, backfilled, apply=True)
    times = iter([1000.0, 1020.0, 1061.0])
    loop.clock = lambda: next(times)
    assert loop.sync_once().applied  # 2 -> 6
    k8s_api.clear_requests()
    # 20 s later the behavior would allow 6 -> 8, but the last change was 20 s ago (< 60)
    again = loop.sync_once()
    assert (again.desired, again.applied) == (8, False)
    assert again.reason == "RateLimited: last change 20 s ago"
    assert k8s_api.writes() == []
    assert loop.sync_once().applied  # 61 s after the first change
    assert k8s_api.get(DEPLOYMENTS, "ml-serving", "web")["spec"]["replicas"] == 8


@pytest.mark.points(2)
def test_cli_once_and_hpa_mode(k8s_api: Any, backfilled: BackfilledPrometheus) -> None:
    seed(k8s_api)
    policy = str(EXAMPLES / "policy.yaml")
    result = CliRunner().invoke(cli, ["controller", "--policy", policy, "--prometheus",
                                      backfilled.url, "--once", "--apply"])
    assert result.exit_code == 0, result.output
    assert "ml-serving/web: scaled 2 -> 6 (ScaleUpLimit)" in result.output
    dry = CliRunner().invoke(cli, ["controller", "--policy", policy, "--mode", "hpa"])
    assert dry.exit_code == 0 and "dry-run" in dry.output
    assert k8s_api.get("autoscaling/v2/horizontalpodautoscalers", "ml-serving", "web") is None
    applied = CliRunner().invoke(cli, ["controller", "--policy", policy, "--mode", "hpa",
                                       "--apply"])
    assert applied.exit_code == 0, applied.output
    hpa = k8s_api.get("autoscaling/v2/horizontalpodautoscalers", "ml-serving", "web")
    assert hpa is not None and hpa["spec"]["maxReplicas"] == 40
