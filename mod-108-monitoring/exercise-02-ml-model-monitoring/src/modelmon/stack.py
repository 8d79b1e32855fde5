"""`modelmon stack up`: the whole monitoring stack on loopback, for demos and `make run`.

Starts the demo service, the exporter and the alert receiver as child processes of this CLI,
Prometheus and Alertmanager through the shared library's starters (Debian binaries), and the
traffic generator in a thread (clean traffic first, then drift). Rules run on a demo clock
(`RuleParams.demo()`) so the drift alert fires within about a minute.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.procs.process import ServiceProcess
from aiinfra_shared.procs.services import (
    Alertmanager,
    Prometheus,
    start_alertmanager,
    start_prometheus,
)

from modelmon import rules
from modelmon.demo_model import write_reference
from modelmon.traffic import TrafficConfig, TrafficStats, run_traffic

LOOPBACK = "127.0.0.1"


def demo_params() -> rules.RuleParams:
    """Fast enough to watch: 2 s scrapes, alerts after 20 s."""
    return replace(rules.RuleParams.fast(), scrape_interval="2s", evaluation_interval="2s",
                   drift_for="20s", accuracy_for="20s", latency_for="20s", error_for="20s",
                   no_traffic_for="20s", quality_for="20s", exporter_down_for="10s",
                   rate_window="1m", no_traffic_window="1m")


@dataclass
class Stack:
    workdir: Path
    urls: dict[str, str] = field(default_factory=dict)
    processes: list[ServiceProcess] = field(default_factory=list)
    servers: list[Prometheus | Alertmanager] = field(default_factory=list)
    traffic_thread: threading.Thread | None = None
    traffic_stats: TrafficStats | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        self.stop_event.set()
        if self.traffic_thread:
            self.traffic_thread.join(timeout=15)
        for server in reversed(self.servers):
            server.stop()
        for process in reversed(self.processes):
            process.stop()


def _child(name: str, args: list[str], env: dict[str, str], workdir: Path,
           ready_url: str) -> ServiceProcess:
    process = ServiceProcess(name, [sys.executable, "-m", "modelmon", *args],
                             workdir / f"{name}.log", env={**os.environ, **env},
                             ready_http=ready_url, timeout=60)
    return process.start()


def start_stack(workdir: Path, traffic: TrafficConfig | None = None,
                progress: Callable[[str], None] = lambda _msg: None) -> Stack:
    """Start everything; on failure stop what was started and re-raise."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack(workdir)
    try:
        _start(stack, traffic, progress)
    except BaseException:
        stack.stop()
        raise
    return stack


def component_env(data: Path, reference: Path, ports: dict[str, int], *,
                  exporter_interval_seconds: float, window_seconds: float | None = None,
                  label_grace_seconds: float | None = None) -> dict[str, str]:
    """Environment wiring service, exporter and receiver to one data dir and their ports."""
    env = {
        "MODELMON_SERVICE__PORT": str(ports["service"]),
        "MODELMON_SERVICE__PREDICTION_LOG": str(data / "predictions.jsonl"),
        "MODELMON_SERVICE__LABEL_LOG": str(data / "labels.jsonl"),
        "MODELMON_EXPORTER__PORT": str(ports["exporter"]),
        "MODELMON_EXPORTER__PREDICTION_LOG": str(data / "predictions.jsonl"),
        "MODELMON_EXPORTER__LABEL_LOG": str(data / "labels.jsonl"),
        "MODELMON_EXPORTER__REFERENCES": f'["{reference}"]',
        "MODELMON_EXPORTER__INTERVAL_SECONDS": str(exporter_interval_seconds),
        "MODELMON_RECEIVER__PORT": str(ports["receiver"]),
        "MODELMON_RECEIVER__DATA_DIR": str(data / "receiver"),
    }
    if window_seconds is not None:
        env["MODELMON_EXPORTER__WINDOW_SECONDS"] = str(window_seconds)
    if label_grace_seconds is not None:
        env["MODELMON_EXPORTER__LABEL_GRACE_SECONDS"] = str(label_grace_seconds)
    return env


def _start(stack: Stack, traffic: TrafficConfig | None,
           progress: Callable[[str], None]) -> None:
    workdir = stack.workdir
    data = workdir / "data"
    reference = data / "reference.json"
    write_reference(reference)
    ports = {name: free_port() for name in ("service", "exporter", "receiver")}
    env = component_env(data, reference, ports, exporter_interval_seconds=1.0,
                        window_seconds=60)
    for name, command in [("receiver", "receiver"), ("service", "serve"),
                          ("exporter", "exporter")]:
        progress(f"starting {name}")
        url = f"http://{LOOPBACK}:{ports[name]}"
        stack.processes.append(_child(name, [command], env, workdir, f"{url}/healthz"))
        stack.urls[name] = url
    progress("starting alertmanager")
    alertmanager = start_alertmanager(
        workdir / "alertmanager", rules.alertmanager_config(stack.urls["receiver"], fast=True))
    stack.servers.append(alertmanager)
    stack.urls["alertmanager"] = alertmanager.url
    params = demo_params()
    config = rules.prometheus_config(f"{LOOPBACK}:{ports['service']}",
                                     f"{LOOPBACK}:{ports['exporter']}",
                                     alertmanager.url.removeprefix("http://"), params)
    progress("starting prometheus")
    prometheus = start_prometheus(workdir / "prometheus", config, {
        "recording_rules.yml": yaml.safe_dump(rules.recording_rules(params)),
        "alerting_rules.yml": yaml.safe_dump(rules.alerting_rules(params)),
    })
    stack.servers.append(prometheus)
    stack.urls["prometheus"] = prometheus.url
    if traffic is not None:
        traffic = replace(traffic, service_url=stack.urls["service"])

        def drive() -> None:
            stack.traffic_stats = run_traffic(traffic, stop=stack.stop_event.is_set)

        stack.traffic_thread = threading.Thread(target=drive, name="traffic", daemon=True)
        stack.traffic_thread.start()
