"""HAProxy as the data plane: weights at run time, header routes, timeouts, health checks."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import httpx
import pytest

from meshobs.loadgen import send
from meshobs.stack import meshobs_exe

from .conftest import Live

pytestmark = pytest.mark.integration


def meshobs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([meshobs_exe(), *args], capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.points(6)
def test_weights_move_at_run_time_and_split_exactly(live: Live,
                                                    reset_model: Callable[[], None]) -> None:
    admin = f"127.0.0.1:{live.stack.topology.admin_port}"
    result = meshobs("weights", "set", "model", "v1=90", "v2=10", "--haproxy-admin", admin)
    assert result.returncode == 0, result.stderr
    assert "v1=90%" in result.stdout
    got = meshobs("weights", "get", "model", "--haproxy-admin", admin)
    assert got.returncode == 0 and "v1=90%, v2=10%" in got.stdout, got.stdout + got.stderr
    # HAProxy's weighted round robin is deterministic: any 200 sequential requests split
    # 180/20, give or take one where the window starts mid-cycle.
    seen = send(live.stack.gateway_url, 200)
    assert seen.statuses[200] == 200
    assert sum(seen.versions.values()) == 200
    assert 19 <= seen.versions["v2"] <= 21, seen.versions
    live.stack.router("model").set_weights({"v1": 0, "v2": 100})
    assert send(live.stack.gateway_url, 20).versions == {"v2": 20}


@pytest.mark.points(3)
@pytest.mark.hidden
def test_weights_that_do_not_sum_to_100_never_reach_haproxy(live: Live,
                                                            reset_model: Callable[[], None]
                                                            ) -> None:
    admin = f"127.0.0.1:{live.stack.topology.admin_port}"
    result = meshobs("weights", "set", "model", "v1=90", "v2=20", "--haproxy-admin", admin)
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0
    assert "sum to 110, not 100" in result.stderr
    assert live.stack.router("model").weights(["v1", "v2"]) == {"v1": 100, "v2": 0}


@pytest.mark.points(4)
def test_header_route_sends_only_matching_requests_to_v2(live: Live,
                                                         reset_model: Callable[[], None]
                                                         ) -> None:
    assert send(live.stack.gateway_url, 10, {"x-canary": "always"}).versions == {"v2": 10}
    assert send(live.stack.gateway_url, 10, {"x-canary": "never"}).versions == {"v1": 10}
    assert send(live.stack.gateway_url, 10).versions == {"v1": 10}


@pytest.mark.points(3)
@pytest.mark.hidden
def test_per_try_timeout_cuts_a_slow_upstream(live: Live,
                                              reset_model: Callable[[], None]) -> None:
    """features answers after 3 s; the sidecars give up at per_try_timeout (1 s) and the
    user gets HAProxy's 504 instead of waiting."""
    live.stack.set_faults("features", "v1", latency_ms=3000)
    response = httpx.post(f"{live.stack.gateway_url}/predict", json={"entity": "slow"},
                          timeout=10)
    assert response.status_code == 504
    assert "504 Gateway Time-out" in response.json()["error"]  # HAProxy's own answer


@pytest.mark.points(2)
@pytest.mark.hidden
def test_health_checks_mark_every_server_up_over_mtls(live: Live) -> None:
    rows = [r for r in live.stack.haproxy_admin.stats()
            if r["svname"] in ("v1", "v2") and r["pxname"].startswith("model_via_gateway")]
    assert {r["pxname"] for r in rows} == {"model_via_gateway", "model_via_gateway__v2"}
    assert all(r["status"] == "UP" for r in rows), rows
    assert all(r["check_status"] == "L7OK" for r in rows), [r["check_status"] for r in rows]
