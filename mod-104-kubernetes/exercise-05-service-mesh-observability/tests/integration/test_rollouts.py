"""Progressive delivery against the live stack: Prometheus measures, HAProxy moves traffic.

Analysis interval 2 s over 5 s rate windows (1 s scrapes), steady user traffic from a load
generator; every rollout ends in a recorded phase with a reason.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml
from aiinfra_shared.testing import prom

from meshobs.adapters.prometheus import PrometheusSource
from meshobs.adapters.webhooks import HttpWebhooks
from meshobs.delivery.analysis import RolloutState
from meshobs.delivery.runner import Rollout
from meshobs.delivery.spec import CanarySpec, parse_canary
from meshobs.loadgen import LoadGenerator, LoadResult, send
from meshobs.observability import dashboard
from meshobs.stack import meshobs_exe

from .conftest import Live

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def users(live: Live, reset_model: Callable[[], None]) -> Iterator[LoadGenerator]:
    load = LoadGenerator(live.stack.gateway_url, rate=30, workers=3).start()
    time.sleep(1.0)
    yield load
    load.stop()


def run(live: Live, spec: CanarySpec,
        on_step: Callable[[RolloutState], None] | None = None) -> RolloutState:
    rollout = Rollout(spec, live.stack.spec, PrometheusSource(live.prometheus_url),
                      live.stack.router("model"), HttpWebhooks(),
                      [live.status, live.controller])
    return rollout.run(on_step)


def canary(**fields: Any) -> CanarySpec:
    base: dict[str, Any] = {"service": "model", "primary": "v1", "canary": "v2",
                            "interval": "2s", "step_weight": 25, "max_weight": 75,
                            "threshold": 3}
    return CanarySpec.model_validate({**base, **fields})


def errors_between(before: LoadResult, after: LoadResult) -> tuple[int, int]:
    return after.errors - before.errors, after.total - before.total


@pytest.mark.points(8)
def test_healthy_canary_is_promoted_step_by_step(live: Live, users: LoadGenerator) -> None:
    state = run(live, canary())
    assert state.phase == "Succeeded", state.reason
    weights = [step.canary_weight for step in state.history]
    assert weights == [50, 75, 100]
    assert [step.action for step in state.history] == ["advance", "advance", "promote"]
    assert live.stack.router("model").weights(["v1", "v2"]) == {"v1": 0, "v2": 100}
    for step in state.history:
        assert {r.name for r in step.results} == {"request-success-rate",
                                                  "request-duration-p99"}
        assert all(r.verdict == "pass" and r.value is not None for r in step.results)
    assert send(live.stack.gateway_url, 10).versions == {"v2": 10}
    status = json.loads((live.work_dir / "rollouts" / "model.json").read_text())
    assert status["phase"] == "Succeeded" and status["weights"] == {"v1": 0, "v2": 100}


@pytest.mark.points(10)
def test_faulty_canary_is_rolled_back_with_fewer_errors_than_a_big_bang(
        live: Live, users: LoadGenerator) -> None:
    live.stack.set_faults("model", "v2", error_rate=0.2)
    before = users.snapshot()
    start = time.monotonic()
    state = run(live, canary(threshold=2))
    elapsed = time.monotonic() - start
    analysed_errors, analysed_total = errors_between(before, users.snapshot())
    assert state.phase == "Failed"
    assert state.failed_checks == 2  # within the threshold, not one interval more
    assert state.history[-1].action == "rollback"
    assert "request-success-rate" in state.reason and ">= 99" in state.reason
    # 20 % errors fail the 99 % check at once; at worst one lucky early interval advances
    assert max(step.canary_weight for step in state.history) <= 50
    assert live.stack.router("model").weights(["v1", "v2"]) == {"v1": 100, "v2": 0}
    failing = [r for r in state.history[-1].results if r.verdict == "fail"]
    assert failing and failing[0].value is not None and failing[0].value < 99
    assert "haproxy_server_http_responses_total" in failing[0].query
    # The same time with everything switched to v2 at once:
    live.stack.router("model").set_weights({"v1": 0, "v2": 100})
    before = users.snapshot()
    time.sleep(elapsed)
    big_bang_errors, big_bang_total = errors_between(before, users.snapshot())
    live.stack.router("model").set_weights({"v1": 100, "v2": 0})
    assert big_bang_total > 0 and analysed_total > 0
    assert analysed_errors / analysed_total < big_bang_errors / big_bang_total
    assert analysed_errors < big_bang_errors


@pytest.mark.points(6)
def test_ab_rollout_routes_only_the_matching_header(live: Live, users: LoadGenerator) -> None:
    spec = parse_canary({"service": "model", "primary": "v1", "canary": "v2", "mode": "ab",
                         "interval": "2s", "iterations": 2, "threshold": 3,
                         "match": [{"header": "x-canary", "exact": "always"}]},
                        live.stack.spec)
    testers = LoadGenerator(live.stack.gateway_url, rate=10, workers=1,
                            headers={"x-canary": "always"}).start()
    before = users.snapshot()
    seen: list[LoadResult] = []  # what users had seen while v2 was not yet promoted

    def watch(state: RolloutState) -> None:
        if not state.done:
            seen.append(users.snapshot())

    try:
        state = run(live, spec, watch)
    finally:
        beta = testers.stop()
    during = seen[-1]
    assert state.phase == "Succeeded", state.reason
    assert [s.canary_weight for s in state.history] == [0, 100], [
        s.message for s in state.history]
    # ordinary users never met v2 before promotion; header users only met v2
    assert during.versions["v2"] == before.versions["v2"]
    assert set(beta.versions) == {"v2"}
    assert live.stack.router("model").weights(["v1", "v2"]) == {"v1": 0, "v2": 100}


class _Hooks(BaseHTTPRequestHandler):
    calls: ClassVar[list[dict[str, Any]]] = []
    gateway = ""
    url = ""
    fail_pre_rollout = False

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(body)
        status = 200
        if body["type"] == "pre-rollout" and type(self).fail_pre_rollout:
            status = 503
        if body["type"] == "load-test":  # like Flagger's loadtester: preview traffic
            send(type(self).gateway, 15, {"x-canary": "always"})
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def hooks(live: Live) -> Iterator[type[_Hooks]]:
    _Hooks.calls, _Hooks.gateway, _Hooks.fail_pre_rollout = [], live.stack.gateway_url, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hooks.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield _Hooks
    server.shutdown()
    server.server_close()


@pytest.mark.points(5)
def test_blue_green_tests_the_canary_with_load_test_webhooks_then_switches(
        live: Live, reset_model: Callable[[], None], hooks: type[_Hooks]) -> None:
    url = hooks.url
    spec = canary(mode="bluegreen", iterations=2, webhooks=[
        {"name": "gate", "type": "pre-rollout", "url": url},
        {"name": "preview", "type": "load-test", "url": url}])
    before = send(live.stack.gateway_url, 5)
    state = run(live, spec)
    assert state.phase == "Succeeded", state.reason
    kinds = [c["type"] for c in hooks.calls]
    assert kinds[0] == "pre-rollout" and kinds.count("load-test") == 2
    assert [s.canary_weight for s in state.history] == [0, 100]
    assert before.versions == {"v1": 5}
    assert send(live.stack.gateway_url, 5).versions == {"v2": 5}


@pytest.mark.points(3)
@pytest.mark.hidden
def test_failing_pre_rollout_webhook_keeps_all_traffic_on_the_primary(
        live: Live, users: LoadGenerator, hooks: type[_Hooks]) -> None:
    hooks.fail_pre_rollout = True
    spec = canary(threshold=2, webhooks=[
        {"name": "gate", "type": "pre-rollout", "url": hooks.url}])
    before = users.snapshot()
    state = run(live, spec)
    assert state.phase == "Failed" and "webhook-gate" in state.reason
    assert users.snapshot().versions["v2"] == before.versions["v2"]


@pytest.mark.points(5)
def test_a_query_returning_no_data_holds_then_rolls_back(live: Live,
                                                         users: LoadGenerator) -> None:
    spec = canary(threshold=2, metrics=[
        {"name": "typo", "query": 'sum(rate(haproxy_server_http_respones_total'
                                  '{server="{{ version }}"}[{{ interval }}]))', "min": 1}])
    state = run(live, spec)
    assert state.phase == "Failed"
    assert [s.action for s in state.history] == ["hold", "rollback"]
    assert all(r.verdict == "no-data" for s in state.history for r in s.results)
    assert "haproxy_server_http_respones_total" in state.history[0].results[0].query
    assert 'server="v2"' in state.history[0].results[0].query
    assert live.stack.router("model").weights(["v1", "v2"]) == {"v1": 100, "v2": 0}


@pytest.mark.points(5)
def test_cli_rollout_logs_queries_values_and_exits_1_on_rollback(
        live: Live, users: LoadGenerator, tmp_path: Path) -> None:
    live.stack.set_faults("model", "v2", error_rate=0.3)
    canary_file = tmp_path / "canary.yaml"
    canary_file.write_text(yaml.safe_dump({"service": "model", "primary": "v1",
                                           "canary": "v2", "interval": "2s",
                                           "step_weight": 25, "max_weight": 75,
                                           "threshold": 2}))
    result = subprocess.run(
        [meshobs_exe(), "--log-level", "INFO", "rollout", "run", str(canary_file),
         "--prometheus-url", live.prometheus_url,
         "--haproxy-admin", f"127.0.0.1:{live.stack.topology.admin_port}",
         "--status-dir", str(tmp_path / "status")],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: model: rolled back")
    assert "Traceback" not in result.stderr
    assert "request-success-rate" in result.stdout and "rollback" in result.stdout
    assert "haproxy_server_http_responses_total" in result.stdout  # the query is shown
    log_lines = [json.loads(line) for line in result.stderr.splitlines()
                 if line.startswith("{")]
    checks = [line for line in log_lines if line.get("message", "").startswith("check ")]
    assert checks and all("query" in line for line in checks)
    status = json.loads((tmp_path / "status" / "model.json").read_text())
    assert status["phase"] == "Failed" and status["weights"] == {"v1": 100, "v2": 0}
    last = {c["name"]: c for c in status["lastChecks"]}
    assert last["request-success-rate"]["verdict"] == "fail"
    assert last["request-success-rate"]["value"] < 99
    assert last["request-success-rate"]["threshold"] == ">= 99"
    shown = subprocess.run([meshobs_exe(), "rollout", "status", "model", "--status-dir",
                            str(tmp_path / "status")], capture_output=True, text=True,
                           timeout=60, check=False)
    assert shown.returncode == 0 and "Failed" in shown.stdout


@pytest.mark.points(4)
def test_every_dashboard_panel_returns_data(live: Live, users: LoadGenerator) -> None:
    """Run after rollouts: the controller's weight and check metrics exist too."""
    run(live, canary(max_weight=25, step_weight=25))  # a short rollout feeds every panel
    prom.assert_panels_return_data(live.prometheus_url, dashboard(), window=60, step=1,
                                   variables={"service": "model", "__rate_interval": "5s"},
                                   nan_is_data=False)


@pytest.mark.points(3)
@pytest.mark.hidden
def test_rollback_alert_fires_in_prometheus(live: Live, users: LoadGenerator,
                                            wait_for: Callable[..., Any]) -> None:
    live.stack.set_faults("model", "v2", error_rate=0.5)
    state = run(live, canary(threshold=1))
    assert state.phase == "Failed"

    def firing() -> bool:
        response = httpx.get(f"{live.prometheus_url}/api/v1/alerts", timeout=5).json()
        return any(a["labels"]["alertname"] == "MeshCanaryRolledBack"
                   and a["labels"].get("service") == "model" and a["state"] == "firing"
                   for a in response["data"]["alerts"])

    wait_for(firing, timeout=20, interval=0.5)
