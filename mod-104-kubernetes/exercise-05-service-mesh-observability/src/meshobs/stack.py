"""Start the whole local stack: mesh CA, workloads, HAProxy data plane, trace collector and
(optionally) Prometheus, on free loopback ports.

Used by `make run` (`meshobs stack up`), the integration tests and the benchmark, so all
three exercise the same wiring. Every workload is a separate process of the `meshobs` console
script; stopping the stack stops all of them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiinfra_shared.io import atomic_write_text
from aiinfra_shared.procs import Prometheus, ServiceProcess, free_port, start_prometheus

from meshobs import pki
from meshobs.adapters.haproxy import HAProxyAdmin, WeightRouter, check_config, start_haproxy
from meshobs.observability import alert_rules
from meshobs.render import haproxy as haproxy_render
from meshobs.render.haproxy import Endpoint, LocalTopology
from meshobs.spec import MeshSpec


def meshobs_exe() -> str:
    """The console script of this environment (works in a venv and in the image)."""
    beside = Path(sys.executable).parent / "meshobs"
    return str(beside) if beside.exists() else (shutil.which("meshobs") or "meshobs")


@dataclass
class Workload:
    service: str
    version: str
    port: int
    admin_port: int
    process: ServiceProcess | None = None

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"


@dataclass
class StackOptions:
    cert_ttl: dt.timedelta = dt.timedelta(hours=1)
    extra_otlp: list[str] = field(default_factory=list)  # e.g. a test's oteltap
    zipkin_collector: bool = False  # also export Zipkin JSON v2 to a second collector
    prometheus: bool = True
    controller_metrics_port: int | None = None  # a rollout process Prometheus should scrape
    faults: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)


class Stack:
    def __init__(self, spec: MeshSpec, work_dir: Path, options: StackOptions | None = None
                 ) -> None:
        self.spec = spec
        self.work_dir = Path(work_dir)
        self.options = options or StackOptions()
        self.ca = pki.MeshCA(self.work_dir / "certs")
        self.processes: list[ServiceProcess] = []
        self.prometheus: Prometheus | None = None
        self.workloads: dict[tuple[str, str], Workload] = {
            (name, version): Workload(name, version, free_port(), free_port())
            for name, service in spec.services.items() for version in service.versions}
        listeners = {(caller, name): free_port()
                     for name, service in spec.services.items() for caller in service.callers}
        self.topology = LocalTopology(
            workloads={name: {v: Endpoint("127.0.0.1", self.workloads[(name, v)].port)
                              for v in service.versions}
                       for name, service in spec.services.items()},
            listeners=listeners, certs_dir=self.ca.directory, admin_port=free_port(),
            metrics_port=free_port())
        self.collector_port = free_port()
        self.zipkin_port = free_port()

    # ------------------------------------------------------------------ addresses

    @property
    def gateway_url(self) -> str:
        edge = next(n for n, s in self.spec.services.items() if not s.callers)
        version = self.spec.services[edge].versions[0]
        return f"http://127.0.0.1:{self.workloads[(edge, version)].port}"

    @property
    def collector_url(self) -> str:
        return f"http://127.0.0.1:{self.collector_port}"

    @property
    def zipkin_url(self) -> str:
        return f"http://127.0.0.1:{self.zipkin_port}"

    @property
    def haproxy_admin(self) -> HAProxyAdmin:
        return HAProxyAdmin("127.0.0.1", self.topology.admin_port)

    def router(self, service: str) -> WeightRouter:
        return WeightRouter.for_topology(self.haproxy_admin, self.topology, service)

    def listener_url(self, caller: str, service: str) -> str:
        return f"http://127.0.0.1:{self.topology.listeners[(caller, service)]}"

    # ------------------------------------------------------------------ lifecycle

    def _issue_certificates(self) -> None:
        self.ca = pki.MeshCA.init(self.ca.directory, self.spec.trust_domain)
        for name in self.spec.services:
            spiffe = self.spec.spiffe_id(name)
            self.ca.issue(name, spiffe, self.options.cert_ttl)  # the outbound sidecar's
            for version in self.spec.services[name].versions:
                self.ca.issue(f"{name}-{version}", spiffe, self.options.cert_ttl)

    def _process(self, name: str, command: list[str], ready: str) -> ServiceProcess:
        process = ServiceProcess(name, command, self.work_dir / "logs" / f"{name}.log",
                                 ready_http=ready, timeout=60)
        self.processes.append(process)
        return process

    def _workload_command(self, workload: Workload) -> list[str]:
        service = self.spec.services[workload.service]
        cmd = [meshobs_exe(), "demo", "serve", workload.service, "--version", workload.version,
               "--port", str(workload.port), "--admin-port", str(workload.admin_port),
               "--ca-dir", str(self.ca.directory),
               "--spiffe-id", self.spec.spiffe_id(workload.service),
               "--cert-ttl", str(int(self.options.cert_ttl.total_seconds()))]
        if service.callers:
            for caller in service.callers:
                cmd += ["--allow", self.spec.spiffe_id(caller)]
        else:
            cmd.append("--no-tls")
        targets = [t for (c, t) in self.topology.listeners if c == workload.service]
        if targets:
            cmd += ["--upstream", self.listener_url(workload.service, targets[0])]
        cmd += ["--otlp", self.collector_url]
        if self.options.zipkin_collector:
            cmd += ["--zipkin", self.zipkin_url]
        for endpoint in self.options.extra_otlp:
            cmd += ["--otlp", endpoint]
        faults = self.options.faults.get((workload.service, workload.version), {})
        if faults.get("error_rate"):
            cmd += ["--error-rate", str(faults["error_rate"])]
        if faults.get("latency_ms"):
            cmd += ["--latency-ms", str(faults["latency_ms"])]
        return cmd

    def prometheus_config(self) -> dict[str, Any]:
        workload_targets = [{"targets": [f"127.0.0.1:{w.admin_port}"],
                             "labels": {"workload": f"{w.service}-{w.version}"}}
                            for w in self.workloads.values()]
        jobs: list[dict[str, Any]] = [
            {"job_name": "collector",
             "static_configs": [{"targets": [f"127.0.0.1:{self.collector_port}"]}]},
            {"job_name": "haproxy",
             "static_configs": [{"targets": [f"127.0.0.1:{self.topology.metrics_port}"]}]},
            {"job_name": "workloads", "static_configs": workload_targets},
        ]
        if self.options.controller_metrics_port:
            jobs.append({"job_name": "meshobs-controller", "static_configs": [
                {"targets": [f"127.0.0.1:{self.options.controller_metrics_port}"]}]})
        return {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": ["meshobs_alerts.yml"], "scrape_configs": jobs}

    def start(self) -> Stack:
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_all(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._issue_certificates()
        config_path = self.work_dir / "haproxy.cfg"
        atomic_write_text(config_path, haproxy_render.render(self.spec, self.topology))
        check_config(config_path)
        batch = [self._process("collector", [meshobs_exe(), "traces", "serve", "--port",
                                             str(self.collector_port), "--db",
                                             str(self.work_dir / "traces.sqlite")],
                               f"{self.collector_url}/healthz")]
        if self.options.zipkin_collector:
            batch.append(self._process(
                "zipkin-collector", [meshobs_exe(), "traces", "serve", "--port",
                                     str(self.zipkin_port), "--db",
                                     str(self.work_dir / "zipkin.sqlite")],
                f"{self.zipkin_url}/healthz"))
        for workload in self.workloads.values():
            workload.process = self._process(f"{workload.service}-{workload.version}",
                                             self._workload_command(workload),
                                             f"{workload.admin_url}/healthz")
            batch.append(workload.process)
        # Start them together: each spends ~1-2 s importing, mostly waiting on the other.
        with ThreadPoolExecutor(max_workers=len(batch)) as pool:
            for future in [pool.submit(process.start) for process in batch]:
                future.result()
        haproxy = start_haproxy(config_path, self.topology,
                                self.work_dir / "logs" / "haproxy.log")
        self.processes.append(haproxy)
        if self.options.prometheus:
            self.prometheus = start_prometheus(
                self.work_dir / "prometheus", self.prometheus_config(),
                {"meshobs_alerts.yml": yaml.safe_dump(alert_rules(fast=True),
                                                      sort_keys=False)})
        self.wait_healthy()
        if self.prometheus is not None and not self.prometheus.wait_for_targets_up(timeout=30):
            down = [t["scrapeUrl"] for t in self.prometheus.targets() if t["health"] != "up"]
            raise RuntimeError(f"Prometheus targets not up: {down}")

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Until HAProxy's health checks see every server UP (mTLS works end to end)."""
        deadline = time.monotonic() + timeout
        admin = self.haproxy_admin
        while True:
            rows = [r for r in admin.stats() if r.get("svname") not in
                    ("FRONTEND", "BACKEND", "")]
            down = [f"{r['pxname']}/{r['svname']}" for r in rows
                    if not r.get("status", "").startswith("UP")]
            if rows and not down:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy servers not UP after {timeout}s: {down}")
            time.sleep(0.3)

    def set_faults(self, service: str, version: str, error_rate: float = 0.0,
                   latency_ms: float = 0.0) -> None:
        url = f"{self.workloads[(service, version)].admin_url}/admin/faults"
        httpx.put(url, json={"error_rate": error_rate, "latency_ms": latency_ms},
                  timeout=5).raise_for_status()

    def stop(self) -> None:
        if self.prometheus is not None:
            self.prometheus.stop()
            self.prometheus = None
        if self.processes:
            with ThreadPoolExecutor(max_workers=len(self.processes)) as pool:
                list(pool.map(lambda p: p.stop(), self.processes))
        self.processes.clear()
