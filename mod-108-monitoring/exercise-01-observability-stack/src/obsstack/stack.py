"""The whole stack on loopback, for `make run` and the end-to-end tests: the three services
(processes of the console script), an OTLP receiver (oteltap), the Elasticsearch API
(noida-db), the shipper, Prometheus (exemplar storage, file_sd, RED + SLO rules),
Alertmanager with the routing and inhibition of `rules.alertmanager_config`, the webhook
receiver and traffic. SLO windows are test-speed: the spec's period becomes 12h, which
scales the 1h/5m page windows to 1m/5s with the production alert logic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from obsstack import rules, slo
from obsstack.config import Settings
from obsstack.services import ROLES

FAST_PERIOD_S = 12 * 3600
LOOPBACK = "127.0.0.1"


def fast_spec(spec: slo.SloSpec) -> slo.SloSpec:
    """The same SLOs over a 12h period: windows of seconds to minutes."""
    return dataclasses.replace(spec, period_s=FAST_PERIOD_S)


def service_env(ports: Mapping[str, int], log_dir: Path, otlp_endpoint: str,
                extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {
        "OBSSTACK_HOST": LOOPBACK,
        "OBSSTACK_FEATURES_URL": f"http://{LOOPBACK}:{ports['features']}",
        "OBSSTACK_MODEL_URL": f"http://{LOOPBACK}:{ports['model']}",
        "OBSSTACK_LOG_DIR": str(log_dir),
        "OBSSTACK_OTLP_ENDPOINT": otlp_endpoint,
        "OBSSTACK_OTLP_TIMEOUT_S": "1",
        **(extra or {}),
    }


def start_services(work_dir: Path, ports: Mapping[str, int], env: Mapping[str, str],
                   workers: Mapping[str, int] | None = None, timeout: float = 120.0
                   ) -> list[Any]:
    """Start every role as `obsstack serve` in parallel; wait until all answer /healthz."""
    from aiinfra_shared.procs.process import ServiceProcess

    exe = str(Path(sys.executable).parent / "obsstack")
    processes = []
    for role in ROLES:
        count = (workers or {}).get(role, 1)
        role_env = dict(env)
        if count > 1:
            role_env["PROMETHEUS_MULTIPROC_DIR"] = str(work_dir / f"metrics-{role}")
        processes.append(ServiceProcess(
            role, [exe, "serve", role, "--port", str(ports[role]), "--workers", str(count)],
            work_dir / f"{role}.out", env=role_env,
            ready_http=f"http://{LOOPBACK}:{ports[role]}/healthz", timeout=timeout))
    errors: list[BaseException] = []

    def start(process: Any) -> None:
        try:
            process.start()
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(p,)) for p in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        for process in processes:
            process.stop()
        raise errors[0]
    return processes


def prometheus_setup(work_dir: Path, ports: Mapping[str, int], spec: slo.SloSpec,
                     alertmanager: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """(prometheus.yml, rule files) for the loopback stack: 1 s scrapes and evaluation."""
    targets = work_dir / "targets.json"
    targets.write_text(json.dumps(rules.file_sd_targets(
        {role: [f"{LOOPBACK}:{ports[role]}"] for role in ROLES})))
    rule_files = {"red.rules.yml": slo._dump({"groups": rules.red_rule_groups()})}
    for name, text in slo.render(spec).items():
        if not name.startswith("tests/"):
            rule_files[name] = text
    config = rules.scrape_config(str(targets), interval="1s", evaluation="1s",
                                 rule_files=sorted(rule_files), alertmanager=alertmanager)
    return config, rule_files


def query_exemplars(prometheus_url: str, query: str, window_s: float = 600
                    ) -> list[dict[str, Any]]:
    """Prometheus' /api/v1/query_exemplars: [{"trace_id", "value", "timestamp", "labels"}]."""
    end = time.time()
    response = httpx.get(f"{prometheus_url}/api/v1/query_exemplars", timeout=10,
                         params={"query": query, "start": end - window_s, "end": end})
    response.raise_for_status()
    out = []
    for series in response.json()["data"] or []:
        for ex in series.get("exemplars", []):
            out.append({"trace_id": ex["labels"].get("trace_id", ""),
                        "value": float(ex["value"]), "timestamp": float(ex["timestamp"]),
                        "labels": series.get("seriesLabels", {})})
    return sorted(out, key=lambda e: e["timestamp"])


@dataclass
class DemoResult:
    alert: dict[str, Any] | None = None
    exemplar: dict[str, Any] | None = None
    spans: list[Any] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)


def run_demo(spec: slo.SloSpec, work_dir: Path, *, error_rate: float = 0.5,
             errors_after: float = 10.0, timeout: float = 150.0, rate: float = 15.0,
             say: Callable[[str], None] = print) -> DemoResult:
    """Start everything, send traffic, inject errors, wait for the SLO page, and return it
    with one exemplar trace of the failing period and that trace's logs."""
    from aiinfra_shared.procs.otlp import OtlpReceiver
    from aiinfra_shared.procs.ports import free_port
    from aiinfra_shared.procs.services import (
        start_alertmanager,
        start_elasticsearch,
        start_prometheus,
    )

    from obsstack.logsearch import LogSearch
    from obsstack.receiver import create_receiver_app
    from obsstack.ship import ElasticsearchSink, Shipper
    from obsstack.traffic import TrafficStats, run_traffic, set_faults

    work_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings.load(None)
    stop = threading.Event()
    cleanup: list[Callable[[], None]] = []
    result = DemoResult()
    try:
        say("starting Elasticsearch API (noida-db) and the OTLP receiver (oteltap)...")
        es = start_elasticsearch(work_dir / "es")
        cleanup.append(es.stop)
        otlp = OtlpReceiver().start()
        cleanup.append(otlp.stop)
        receiver_port = free_port()
        import uvicorn

        server = uvicorn.Server(uvicorn.Config(
            create_receiver_app(work_dir / "alerts.json"), host=LOOPBACK, port=receiver_port,
            log_level="warning"))
        receiver_thread = threading.Thread(target=server.run, daemon=True)
        receiver_thread.start()
        cleanup.append(lambda: setattr(server, "should_exit", True))
        receiver_url = f"http://{LOOPBACK}:{receiver_port}"
        am = start_alertmanager(work_dir / "alertmanager", rules.alertmanager_config(
            receiver_url, group_wait="1s", group_interval="2s"))
        cleanup.append(am.stop)
        ports = {role: free_port() for role in ROLES}
        say("starting gateway (2 workers), features and model...")
        processes = start_services(work_dir, ports, service_env(
            ports, work_dir / "logs", otlp.endpoint), workers={"gateway": 2})
        for process in processes:
            cleanup.append(process.stop)
        config, rule_files = prometheus_setup(work_dir, ports, fast_spec(spec),
                                              am.url.removeprefix("http://"))
        prom = start_prometheus(work_dir / "prometheus", config, rule_files,
                                extra_flags=["--enable-feature=exemplar-storage"])
        cleanup.append(prom.stop)
        result.urls = {"prometheus": prom.url, "alertmanager": am.url, "elasticsearch": es.url,
                       "otlp": otlp.endpoint, "receiver": receiver_url,
                       **{r: f"http://{LOOPBACK}:{p}" for r, p in ports.items()}}
        for name, url in result.urls.items():
            say(f"  {name:<13} {url}")
        shipper = Shipper(sorted((work_dir / "logs").glob("*.log")) or
                          [work_dir / "logs" / f"{r}.log" for r in ROLES],
                          ElasticsearchSink(es.url), settings.index_prefix,
                          settings.shipper.model_copy(update={
                              "state_dir": work_dir / "shipper", "flush_interval_s": 0.3}))
        threading.Thread(target=shipper.run, args=(stop,), daemon=True).start()
        stats = TrafficStats()
        threading.Thread(target=run_traffic, daemon=True, kwargs={
            "gateway_url": result.urls["gateway"], "rate": rate, "stop": stop,
            "stats": stats}).start()
        say(f"traffic at {rate:g} req/s; injecting {error_rate:.0%} model errors in "
            f"{errors_after:g} s")
        time.sleep(errors_after)
        set_faults(result.urls["model"], error_rate, 0)
        injected_at = time.time()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and result.alert is None:
            pages = [a for a in httpx.get(f"{receiver_url}/alerts", timeout=5).json()
                     if a["receiver"] == "page" and a["status"] == "firing"]
            result.alert = pages[0] if pages else None
            time.sleep(1)
        if result.alert is None:
            say(f"no page within {timeout:g} s (traffic: {stats.as_dict()})")
            return result
        exemplars = [e for e in query_exemplars(
            prom.url, 'obsstack_http_request_duration_seconds_bucket{service="gateway"}')
            if e["timestamp"] >= injected_at]
        received = {s.trace_id for s in otlp.spans}
        failed = {s.trace_id for s in otlp.spans if s.status_code == "ERROR"}
        chosen = ([e for e in exemplars if e["trace_id"] in failed]
                  or [e for e in exemplars if e["trace_id"] in received])
        if chosen:
            result.exemplar = chosen[-1]
            trace_id = result.exemplar["trace_id"]
            result.spans = sorted((s for s in otlp.spans if s.trace_id == trace_id),
                                  key=lambda s: s.start_time_unix_nano)
            search = LogSearch(es.url, settings.index_prefix)
            for _ in range(30):
                search.refresh()
                result.logs = search.by_trace(trace_id)
                if len(result.logs) >= 3:
                    break
                time.sleep(0.5)
        return result
    finally:
        stop.set()
        for action in reversed(cleanup):
            with contextlib.suppress(Exception):  # best effort teardown of the demo
                action()
