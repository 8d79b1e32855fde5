"""The monitoring stack for the integration tests, started through the shared fixtures.

Service, exporter and receiver run as real subprocesses of the `modelmon` console script;
Prometheus and Alertmanager are the Debian binaries. Rules use `RuleParams.fast()` (1 s
scrapes and evaluations, `for: 2s`) so the whole alert path completes in seconds.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiinfra_shared.procs.ports import free_port

from modelmon import rules
from modelmon.demo_model import write_reference
from modelmon.stack import component_env

EXE = str(Path(sys.executable).parent / "modelmon")


@dataclass
class Stack:
    service_url: str
    exporter_url: str
    receiver_url: str
    prometheus: Any
    alertmanager: Any
    data: Path


@pytest.fixture
def stack(tmp_path: Path, service_process: Callable[..., Any],
          prometheus_factory: Callable[..., Any],
          alertmanager_factory: Callable[..., Any]) -> Stack:
    data = tmp_path / "data"
    reference = data / "reference.json"
    write_reference(reference)
    ports = {name: free_port() for name in ("service", "exporter", "receiver")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = component_env(data, reference, ports, exporter_interval_seconds=0.5,
                        label_grace_seconds=5)
    for name, command in [("receiver", "receiver"), ("service", "serve"),
                          ("exporter", "exporter")]:
        service_process(name, [EXE, command], env=env, ready_http=f"{urls[name]}/healthz")
    alertmanager = alertmanager_factory(rules.alertmanager_config(urls["receiver"], fast=True))
    params = rules.RuleParams.fast()
    prometheus = prometheus_factory(
        rules.prometheus_config(f"127.0.0.1:{ports['service']}",
                                f"127.0.0.1:{ports['exporter']}",
                                alertmanager.url.removeprefix("http://"), params),
        rule_files={"recording_rules.yml": yaml.safe_dump(rules.recording_rules(params)),
                    "alerting_rules.yml": yaml.safe_dump(rules.alerting_rules(params))})
    assert prometheus.wait_for_targets_up(timeout=30), prometheus.targets()
    return Stack(urls["service"], urls["exporter"], urls["receiver"], prometheus, alertmanager,
                 data)
