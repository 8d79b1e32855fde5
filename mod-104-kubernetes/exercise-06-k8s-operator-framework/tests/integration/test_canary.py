"""Canary rollouts gated by a real Prometheus holding backfilled model-server metrics: a
good candidate is promoted step by step (the stable name moves to its pods, which are not
restarted), a bad one is rolled back with the reason in status (kserve#3085)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiinfra_shared.testing.k8s import K8sApi

from modelop import gates
from modelop.adapters.prometheus import Prometheus
from modelop.config import Settings
from modelop.samples import openmetrics, revision_series
from modelop.spec import DEFAULT_IMAGES, Predictor, parse_spec, revision_of
from tests.support.cluster import (
    DEPLOYMENTS,
    condition,
    create,
    events,
    is_true,
    mark_all_ready,
    mark_ready,
    mlmodel,
    model,
    operator,
    patch_spec,
    poll,
    prepare,
    simple_spec,
)

pytestmark = pytest.mark.integration
GOOD_URI, BAD_URI, SLOW_URI = "s3://models/churn/v2", "s3://models/churn/v3-broken", \
    "s3://models/churn/v4-slow"
GATES = {"maxErrorRate": 0.01, "maxP95LatencySeconds": 0.3, "window": "2m"}


def _canary(uri: str, **extra: Any) -> dict[str, Any]:
    return {"modelUri": uri, "steps": [25, 50], "stepSeconds": 1, "gates": GATES, **extra}


def _revision(uri: str) -> str:
    """The candidate's revision, computed independently of parse_spec (the fixture below
    must not depend on the code under test)."""
    return revision_of(Predictor(uri=uri, framework="sklearn",
                                 image=DEFAULT_IMAGES["sklearn"], port=8080))


@pytest.fixture(scope="module")
def prometheus(prometheus_factory: Callable[..., Any]) -> Any:
    """Ten minutes of metrics: v2 healthy (0.1% errors, 80 ms), v3 failing (20% errors),
    v4 slow (0.1% errors but 2 s)."""
    history = openmetrics(
        revision_series("default", "churn", _revision(GOOD_URI), error_ratio=0.001,
                        latency_seconds=0.08),
        revision_series("default", "churn", _revision(BAD_URI), error_ratio=0.2,
                        latency_seconds=0.08),
        revision_series("default", "churn", _revision(SLOW_URI), error_ratio=0.001,
                        latency_seconds=2.0))
    return prometheus_factory({"global": {"scrape_interval": "15s"}}, backfill=history)


@pytest.mark.points(4)
def test_gate_queries_against_prometheus(prometheus: Any) -> None:
    prom = Prometheus(prometheus.url)
    spec = parse_spec(simple_spec(canary=_canary(GOOD_URI)))
    assert spec.canary is not None

    def report(uri: str) -> gates.GateReport:
        return gates.evaluate(gates.render_queries(spec.canary.gates, "default", "churn",  # type: ignore[union-attr]
                                                   _revision(uri)), prom.query)

    good, bad, slow = report(GOOD_URI), report(BAD_URI), report(SLOW_URI)
    assert good.passed and not good.failed
    assert good.values()["errorRate"] == pytest.approx(0.001, rel=0.05)
    assert bad.failed and bad.values()["errorRate"] == pytest.approx(0.2, rel=0.05)
    assert slow.failed and slow.values()["p95LatencySeconds"] > 1.0
    assert [r.verdict for r in report("s3://models/never-deployed").results] == \
        [gates.Verdict.NO_DATA, gates.Verdict.NO_DATA]


def _wait_for_selector(k8s_api: K8sApi, selector: dict[str, str], timeout: float = 10) -> None:
    """Wait until the stable Service selects `selector`; fail with pytest's diff of the last
    selector seen if it does not within `timeout` (the operator writes it in its own step)."""
    def current() -> dict[str, str]:
        service = k8s_api.get("v1/services", "default", "churn") or {}
        return dict((service.get("spec") or {}).get("selector") or {})

    deadline = time.monotonic() + timeout
    while current() != selector and time.monotonic() < deadline:
        time.sleep(0.1)
    assert current() == selector


def _converge_stable(k8s_api: K8sApi) -> None:
    create(k8s_api, mlmodel("churn", simple_spec(replicas=4)))
    poll(lambda: mark_ready(k8s_api, "churn-blue"))
    poll(lambda: is_true(k8s_api, "churn", "Ready"))


@pytest.mark.points(10)
def test_good_canary_is_promoted_without_restarting_its_pods(k8s_api: K8sApi,
                                                             prometheus: Any) -> None:
    prepare(k8s_api)
    with operator(Settings(prometheus_url=prometheus.url)):
        _converge_stable(k8s_api)
        patch_spec(k8s_api, "churn", {"canary": _canary(GOOD_URI)})
        green = poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "churn-green"))
        template_at_start = copy.deepcopy(green["spec"]["template"])
        assert green["spec"]["replicas"] == 1  # 25% of 4 pods
        # both slots; the operator writes the Service after the green Deployment
        _wait_for_selector(k8s_api, {"aiinfra.dev/model": "churn"})

        def finished() -> bool:
            rollout = ((model(k8s_api, "churn") or {}).get("status") or {}).get("rollout") or {}
            return rollout.get("phase") in ("Promoted", "RolledBack")

        poll(finished, timeout=40, interval=0.2, each=lambda: mark_all_ready(k8s_api))
        status = model(k8s_api, "churn")["status"]  # type: ignore[index]
        assert status["rollout"]["phase"] == "Promoted", status["rollout"]
        assert status["stableSlot"] == "green"
        assert status["stableRevision"] == _revision(GOOD_URI)
        # the stable name now selects the green pods; blue is gone
        service = k8s_api.get("v1/services", "default", "churn")
        assert service["spec"]["selector"] == {"aiinfra.dev/model": "churn",
                                               "aiinfra.dev/slot": "green"}
        poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "churn-blue") is None)
        green = k8s_api.get(DEPLOYMENTS, "default", "churn-green")
        assert green["spec"]["template"] == template_at_start  # same pods, scaled only
        assert green["spec"]["replicas"] == 4
        # the steps went 1 -> 2 -> 4 pods (25%, 50%, promoted)
        sizes = [r.body["spec"]["replicas"] for r in k8s_api.requests
                 if r.method == "PATCH" and r.name == "churn-green" and r.subresource is None
                 and "replicas" in ((r.body or {}).get("spec") or {})]
        assert sizes == [2, 4]
        reasons = [r for _, r, _ in events(k8s_api, "churn")]
        for reason in ("CanaryStart", "CanaryAdvance", "CanaryPromote"):
            assert reason in reasons
        assert not is_true(k8s_api, "churn", "Degraded")

        # folding the canary into the spec (what GitOps would commit) changes nothing
        k8s_api.clear_requests()
        patch_spec(k8s_api, "churn", {"model": {"uri": GOOD_URI}, "canary": None})
        poll(lambda: (condition(k8s_api, "churn", "Ready") or {}).get(
            "observedGeneration") == 3)
        assert not [w for w in k8s_api.writes() if w.resource == "apps/v1/deployments"]


@pytest.mark.points(8)
def test_failing_canary_is_rolled_back_with_the_reason(k8s_api: K8sApi,
                                                       prometheus: Any) -> None:
    prepare(k8s_api)
    with operator(Settings(prometheus_url=prometheus.url)):
        _converge_stable(k8s_api)
        patch_spec(k8s_api, "churn", {"canary": _canary(BAD_URI, trafficRouting="istio")})
        vs = poll(lambda: k8s_api.get("networking.istio.io/v1/virtualservices", "default",
                                      "churn"))
        weights = [r["weight"] for r in vs["spec"]["http"][0]["route"]]
        assert weights == [75, 25]

        def rolled_back() -> bool:
            rollout = ((model(k8s_api, "churn") or {}).get("status") or {}).get("rollout") or {}
            return rollout.get("phase") == "RolledBack"

        poll(rolled_back, timeout=30, interval=0.2, each=lambda: mark_all_ready(k8s_api))
        status = model(k8s_api, "churn")["status"]  # type: ignore[index]
        assert status["rollout"]["reason"] == "GateFailed"
        assert "errorRate 0.2" in status["rollout"]["message"]
        assert "> 0.01" in status["rollout"]["message"]
        assert status["stableSlot"] == "blue"
        degraded = condition(k8s_api, "churn", "Degraded")
        assert degraded is not None and degraded["status"] == "True"
        assert degraded["reason"] == "CanaryRolledBack"
        assert is_true(k8s_api, "churn", "Ready")  # the stable pods kept serving
        poll(lambda: k8s_api.get(DEPLOYMENTS, "default", "churn-green") is None)
        poll(lambda: k8s_api.get("networking.istio.io/v1/virtualservices", "default",
                                 "churn") is None)
        _wait_for_selector(k8s_api, {"aiinfra.dev/model": "churn", "aiinfra.dev/slot": "blue"})
        assert any(t == "Warning" and r == "CanaryRollback"
                   for t, r, _ in events(k8s_api, "churn"))


@pytest.mark.hidden
@pytest.mark.points(4)
def test_slow_canary_fails_the_latency_gate(k8s_api: K8sApi, prometheus: Any) -> None:
    prepare(k8s_api)
    with operator(Settings(prometheus_url=prometheus.url)):
        _converge_stable(k8s_api)
        patch_spec(k8s_api, "churn", {"canary": _canary(
            SLOW_URI, trafficRouting="gatewayAPI", gateway="public")})
        route = poll(lambda: k8s_api.get("gateway.networking.k8s.io/v1/httproutes",
                                         "default", "churn"))
        assert route["spec"]["parentRefs"] == [{"name": "public"}]

        def rolled_back() -> bool:
            rollout = ((model(k8s_api, "churn") or {}).get("status") or {}).get("rollout") or {}
            return rollout.get("phase") == "RolledBack"

        poll(rolled_back, timeout=30, interval=0.2, each=lambda: mark_all_ready(k8s_api))
        message = model(k8s_api, "churn")["status"]["rollout"]["message"]  # type: ignore[index]
        assert "p95LatencySeconds" in message and "> 0.3" in message
