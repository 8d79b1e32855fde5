"""The rollout loop through its ports: in-memory metrics, router and webhooks standing in for
Prometheus, HAProxy and HTTP (the live versions are in tests/integration)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from meshobs.delivery.runner import Rollout
from meshobs.delivery.spec import CanarySpec, Webhook
from meshobs.delivery.status import FileStatus, MetricsStatus
from meshobs.errors import UnavailableError
from meshobs.spec import default_spec


class Metrics:
    """Answers each query from a script of values (or raises)."""

    def __init__(self, values: dict[str, list[Any]]) -> None:
        self.values = values
        self.queries: list[str] = []

    def instant(self, query: str) -> float | None:
        self.queries.append(query)
        key = "latency" if "duration" in query else "success"
        value = self.values[key].pop(0) if len(self.values[key]) > 1 else self.values[key][0]
        if isinstance(value, Exception):
            raise value
        return value

    def samples(self, query: str, window: float, step: float) -> list[float]:
        key = "canary" if 'version="v2"' in query or 'server="v2"' in query else "primary"
        return list(self.values[key])


class Router:
    def __init__(self, fail_after: int | None = None) -> None:
        self.calls: list[dict[str, int]] = []
        self.fail_after = fail_after

    def set_weights(self, weights: dict[str, int]) -> None:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            self.calls.append({"failed": 1})
            raise UnavailableError("HAProxy admin socket 127.0.0.1:1 unreachable")
        self.calls.append(dict(weights))


class Hooks:
    def __init__(self, answers: dict[str, list[bool]] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, webhook: Webhook, payload: dict[str, Any]) -> tuple[bool, str]:
        self.calls.append((webhook.type, payload))
        answers = self.answers.get(webhook.type, [True])
        ok = answers.pop(0) if len(answers) > 1 else answers[0]
        return ok, "HTTP 200" if ok else "HTTP 503"


def spec(**fields: Any) -> CanarySpec:
    return CanarySpec.model_validate({"service": "model", "primary": "v1", "canary": "v2",
                                      "interval": "1s", "step_weight": 50, "max_weight": 50,
                                      "threshold": 2, **fields})


def rollout(s: CanarySpec, metrics: Metrics, router: Router, hooks: Hooks | None = None,
            sinks: list[Any] | None = None) -> Rollout:
    return Rollout(s, default_spec(), metrics, router, hooks or Hooks(), sinks or [],
                   sleep=lambda _s: None)


@pytest.mark.points(2)
def test_promotion_moves_weights_and_records_every_step(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    router = Router()
    sinks = [FileStatus(tmp_path), MetricsStatus(registry)]
    state = rollout(spec(), Metrics({"success": [100.0], "latency": [20.0]}), router,
                    sinks=sinks).run()
    assert state.phase == "Succeeded"
    assert router.calls == [{"v1": 100, "v2": 0}, {"v1": 50, "v2": 50}, {"v1": 0, "v2": 100}]
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["phase"] == "Succeeded" and doc["weights"] == {"v1": 0, "v2": 100}
    checks = {c["name"]: c for c in doc["lastChecks"]}
    assert checks["request-success-rate"]["value"] == 100.0
    assert checks["request-success-rate"]["threshold"] == ">= 99"
    assert 'server="v2"' in checks["request-success-rate"]["query"]
    exposition = generate_latest(registry).decode()
    assert 'meshobs_canary_weight{service="model",version="v2"} 100.0' in exposition
    assert ('meshobs_analysis_check_value{check="request-duration-p99",service="model"} 20.0'
            in exposition)
    assert 'meshobs_rollouts_total{result="succeeded",service="model"} 1.0' in exposition
    assert ('meshobs_analysis_check_threshold{bound="min",check="request-success-rate",'
            'service="model"} 99.0' in exposition)


@pytest.mark.points(3)
def test_prometheus_unreachable_rolls_back_with_the_reason() -> None:
    down = UnavailableError("Prometheus at http://127.0.0.1:1 unreachable (ConnectError)")
    router = Router()
    state = rollout(spec(), Metrics({"success": [down], "latency": [down]}), router).run()
    assert state.phase == "Failed"
    assert router.calls[-1] == {"v1": 100, "v2": 0}
    assert "Prometheus at http://127.0.0.1:1 unreachable" in state.reason
    assert all(r.verdict == "error" for r in state.history[-1].results)


@pytest.mark.points(3)
def test_router_failure_mid_rollout_restores_or_says_why() -> None:
    # the 3rd set_weights (promotion) fails, and so does the restore attempt after it
    router = Router(fail_after=2)
    state = rollout(spec(), Metrics({"success": [100.0], "latency": [20.0]}), router).run()
    assert state.phase == "Failed"
    assert "could not set weights {'v1': 0, 'v2': 100}" in state.reason
    assert "restoring the primary failed too" in state.reason
    assert "weights unknown" in state.reason


@pytest.mark.points(2)
def test_failing_pre_rollout_gate_keeps_the_canary_at_zero() -> None:
    s = spec(webhooks=[{"name": "gate", "type": "pre-rollout", "url": "http://gate"}])
    router = Router()
    hooks = Hooks({"pre-rollout": [False]})
    metrics = Metrics({"success": [100.0], "latency": [20.0]})
    state = rollout(s, metrics, router, hooks).run()
    assert state.phase == "Failed" and "webhook-gate" in state.reason
    assert all(call.get("v2", 0) == 0 for call in router.calls)
    assert metrics.queries == []  # no analysis before the gate opens


@pytest.mark.points(2)
def test_webhooks_are_called_with_the_rollout_state() -> None:
    s = spec(webhooks=[{"name": "gate", "type": "pre-rollout", "url": "http://gate"},
                       {"name": "load", "type": "load-test", "url": "http://load",
                        "metadata": {"cmd": "hey -z 1m"}},
                       {"name": "done", "type": "post-rollout", "url": "http://done"}])
    hooks = Hooks({"pre-rollout": [False, True]})
    state = rollout(s, Metrics({"success": [100.0], "latency": [20.0]}), Router(),
                    hooks).run()
    assert state.phase == "Succeeded" and state.failed_checks == 1
    kinds = [kind for kind, _ in hooks.calls]
    assert kinds == ["pre-rollout", "pre-rollout", "load-test", "post-rollout"]
    load = hooks.calls[2][1]
    assert load["metadata"] == {"cmd": "hey -z 1m"} and load["canaryWeight"] == 50
    assert hooks.calls[-1][1]["phase"] == "Succeeded"


@pytest.mark.points(2)
def test_kayenta_comparison_fails_a_slower_canary_within_slo() -> None:
    s = spec(comparison={"enabled": True, "metric": "latency", "min_samples": 8})
    metrics = Metrics({"success": [100.0], "latency": [120.0],
                       "canary": [30.0 + i for i in range(10)],
                       "primary": [10.0 + i for i in range(10)]})
    state = rollout(s, metrics, Router()).run()
    assert state.phase == "Failed"
    compare = next(r for r in state.history[-1].results if r.name == "compare-latency")
    assert compare.verdict == "fail" and compare.value is not None and compare.value < 0.01
    # absolute checks alone would have passed
    assert all(r.passed for r in state.history[-1].results if r.name != "compare-latency")


@pytest.mark.points(2)
@pytest.mark.hidden
def test_first_deployment_runs_against_mesh_slos() -> None:
    router = Router()
    s = spec(primary=None, iterations=2)
    state = rollout(s, Metrics({"success": [99.5], "latency": [900.0]}), router).run()
    assert state.phase == "Failed"
    assert router.calls and all(call == {"v2": 100} for call in router.calls)
    latency = next(r for r in state.history[-1].results if r.name == "request-duration-p99")
    assert latency.threshold == "<= 500" and latency.verdict == "fail"
