"""A real scrape: the emulated exporter -> Prometheus (rules rendered with short `for:`) ->
Alertmanager. A planted XID 79 and an idle allocated GPU fire, then resolve."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiinfra_shared.procs.ports import free_port

from gpufleet import fleet as fleetfile
from gpufleet import rules
from tests.helpers import EXAMPLES

pytestmark = pytest.mark.integration


def names(alertmanager: Any) -> set[str]:
    return {a["labels"]["alertname"] for a in alertmanager.alerts()}


@pytest.mark.points(5)
def test_xid_and_idle_gpu_fire_in_alertmanager_then_resolve(
        service_process: Callable[..., Any], prometheus_factory: Callable[..., Any],
        alertmanager: Any, wait_for: Callable[..., Any]) -> None:
    port = free_port()
    exe = str(Path(sys.executable).parent / "gpufleet")
    service_process("exporter", [exe, "exporter", "--emulate", "incident", "--port", str(port),
                                 "--hostname", "gpu-node-0", "--incident-after", "4",
                                 "--incident-for", "8", "--xid-hold", "4"],
                    ready_http=f"http://127.0.0.1:{port}/metrics")
    fleet = fleetfile.load(EXAMPLES / "fleet.yaml")
    groups = rules.rule_groups(fleet, rules.Durations(heat="2s", idle="2s"))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["rules.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [
            {"targets": [alertmanager.url.removeprefix("http://")]}]}]},
        "scrape_configs": [{"job_name": "dcgm", "honor_labels": True,
                            "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}],
    }
    prometheus = prometheus_factory(config, rule_files={"rules.yml": yaml.safe_dump(groups)})
    assert prometheus.wait_for_targets_up(timeout=30)
    fired = wait_for(lambda: {"GpuCriticalXid", "GpuXidError", "GpuAllocatedIdle"}
                     <= names(alertmanager), timeout=40, interval=0.2)
    assert fired
    alerts = {a["labels"]["alertname"]: a["labels"] for a in alertmanager.alerts()}
    assert alerts["GpuCriticalXid"]["UUID"].startswith("GPU-00000000")
    assert alerts["GpuCriticalXid"]["Hostname"] == "gpu-node-0"
    assert alerts["GpuAllocatedIdle"]["pod"] == "notebook-0"
    assert alerts["GpuAllocatedIdle"]["emulated"] == "true"
    wait_for(lambda: not ({"GpuCriticalXid", "GpuAllocatedIdle"} & names(alertmanager)),
             timeout=40, interval=0.2)
