"""`meshobs stack up` (what `make run` does): the whole story in about a minute.

Start the stack with Prometheus, send steady user traffic, roll out a healthy model v2
(promoted step by step), reset, roll out a v2 answering 20 % errors (rolled back), and print
each analysis log with queries, values and thresholds, then the service graph built from the
traces.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from aiinfra_shared.procs import free_port
from prometheus_client import CollectorRegistry, make_wsgi_app
from rich.console import Console
from rich.table import Table

from meshobs.adapters.prometheus import PrometheusSource
from meshobs.adapters.webhooks import HttpWebhooks
from meshobs.delivery.analysis import RolloutState
from meshobs.delivery.runner import Rollout, StatusSink
from meshobs.delivery.spec import CanarySpec
from meshobs.delivery.status import FileStatus, MetricsStatus
from meshobs.loadgen import LoadGenerator
from meshobs.spec import MeshSpec
from meshobs.stack import Stack, StackOptions


def serve_metrics(registry: CollectorRegistry, port: int) -> Callable[[], None]:
    """Expose `registry` on 127.0.0.1:port/metrics in a thread; returns a stop function."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

    server: WSGIServer = make_server("127.0.0.1", port, make_wsgi_app(registry),
                                     handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="metrics")
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop


def analysis_table(state: RolloutState, title: str) -> Table:
    """Every step's checks (value, threshold, verdict), then each check's query once."""
    table = Table(title=title, show_lines=False, caption_justify="left")
    for column in ("step", "weight", "check", "value", "threshold", "verdict", "action"):
        table.add_column(column)
    for step in state.history:
        if not step.results:
            table.add_row(str(step.iteration), f"{step.canary_weight}%", "-", "-", "-", "-",
                          step.action)
        for index, result in enumerate(step.results):
            value = "no data" if result.value is None else f"{result.value:.4g}"
            table.add_row(str(step.iteration) if index == 0 else "",
                          f"{step.canary_weight}%" if index == 0 else "", result.name,
                          value, result.threshold, result.verdict,
                          step.action if index == len(step.results) - 1 else "")
    return table


def print_analysis(console: Console, state: RolloutState, title: str) -> None:
    """The analysis table, then each check's PromQL once (full width, copy-pastable)."""
    console.print(analysis_table(state, title))
    seen: dict[str, str] = {}
    for step in state.history:
        for result in step.results:
            seen.setdefault(result.name, result.query)
    for name, query in seen.items():
        console.print(f"  [bold]{name}[/]: {query}", soft_wrap=True, highlight=False)


def run_showcase(mesh: MeshSpec, work_dir: Path, console: Console, rate: float = 25.0
                 ) -> tuple[RolloutState, RolloutState]:
    registry = CollectorRegistry()
    metrics_port = free_port()
    stack = Stack(mesh, work_dir, StackOptions(cert_ttl=dt.timedelta(minutes=10),
                                               controller_metrics_port=metrics_port))
    stop_metrics = serve_metrics(registry, metrics_port)
    sinks: list[StatusSink] = [FileStatus(work_dir / "rollouts"), MetricsStatus(registry)]
    console.print("[bold]starting[/] collector, gateway, model v1+v2, features, HAProxy, "
                  "Prometheus ...")
    stack.start()
    load = LoadGenerator(stack.gateway_url, rate=rate).start()
    try:
        assert stack.prometheus is not None
        console.print(f"gateway {stack.gateway_url}  prometheus {stack.prometheus.url}  "
                      f"collector {stack.collector_url}  HAProxy admin "
                      f"127.0.0.1:{stack.topology.admin_port}")
        source = PrometheusSource(stack.prometheus.url)
        spec = CanarySpec(service="model", primary="v1", canary="v2", interval="2s",
                          step_weight=25, max_weight=75, threshold=2)
        console.rule("good canary: model v2 healthy")
        good = Rollout(spec, mesh, source, stack.router("model"), HttpWebhooks(),
                       sinks).run()
        print_analysis(console, good, f"analysis log: {good.phase} - {good.reason}")
        stack.router("model").set_weights({"v1": 100, "v2": 0})
        stack.set_faults("model", "v2", error_rate=0.2)
        console.rule("bad canary: model v2 answers 20% errors")
        bad = Rollout(spec, mesh, source, stack.router("model"), HttpWebhooks(), sinks).run()
        print_analysis(console, bad, f"analysis log: {bad.phase} - {bad.reason}")
        seen = load.stop()
        console.print(f"users: {seen.total} requests, {seen.errors} errors, served by "
                      f"{dict(seen.versions)}")
        import httpx

        edges = httpx.get(f"{stack.collector_url}/api/graph", params={"window": 600},
                          timeout=10).json()["edges"]
        graph = Table(title="service graph (from traces)")
        for column in ("source", "target", "requests", "errors", "rate/s", "p95 ms"):
            graph.add_column(column)
        for edge in edges:
            graph.add_row(edge["source"], edge["target"], str(edge["requests"]),
                          str(edge["errors"]), f"{edge['rate_per_s']:.2f}",
                          f"{edge['p95_ms']:.1f}")
        console.print(graph)
        console.print(f"status files: {work_dir / 'rollouts'}")
        return good, bad
    finally:
        load.stop()
        stack.stop()
        stop_metrics()
