"""One live stack for the integration tests (session scope: it takes ~10 s to start).

Real processes on loopback: the meshobs trace collector (OTLP) and a second one receiving
Zipkin JSON, gateway / model v1 / model v2 / features (each its own `meshobs demo serve`),
HAProxy 2.6 as every caller's sidecar, and Prometheus (Debian binary, 1 s scrapes) scraping
HAProxy's exporter, the workloads and this test process's rollout metrics. `oteltap` is an
independent OTLP collector every workload also exports to.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiinfra_shared.procs import OtlpReceiver, free_port
from aiinfra_shared.testing.plugin import require_or_skip
from prometheus_client import CollectorRegistry

from meshobs.adapters.prometheus import PrometheusSource
from meshobs.delivery.status import FileStatus, MetricsStatus
from meshobs.showcase import serve_metrics
from meshobs.spec import default_spec
from meshobs.stack import Stack, StackOptions


@dataclass
class Live:
    stack: Stack
    oteltap: OtlpReceiver
    zipkin_url: str
    controller: MetricsStatus
    status: FileStatus
    work_dir: Path

    @property
    def prometheus_url(self) -> str:
        assert self.stack.prometheus is not None
        return self.stack.prometheus.url


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    work_dir = tmp_path_factory.mktemp("stack")
    oteltap = require_or_skip(lambda: OtlpReceiver().start())
    registry = CollectorRegistry()
    controller = MetricsStatus(registry)
    metrics_port = free_port()
    stop_metrics = serve_metrics(registry, metrics_port)
    stack = Stack(default_spec(), work_dir, StackOptions(
        cert_ttl=dt.timedelta(hours=1), extra_otlp=[oteltap.endpoint], zipkin_collector=True,
        controller_metrics_port=metrics_port))
    try:
        require_or_skip(stack.start)
        yield Live(stack, oteltap, stack.zipkin_url, controller, FileStatus(work_dir / "rollouts"),
                   work_dir)
    finally:
        stack.stop()
        stop_metrics()
        oteltap.stop()


def wait_until_quiet(live: Live, timeout: float = 15.0) -> None:
    """Until no 5xx of model is left inside the analysis rate window (5 s): a previous
    test's injected errors must not fail the next test's first check."""
    source = PrometheusSource(live.prometheus_url)
    query = ('sum(rate(haproxy_server_http_responses_total{proxy=~"model_via_.+",'
             'code="5xx"}[5s]))')
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not source.instant(query):
            return
        time.sleep(0.5)
    raise AssertionError(f"model still answers 5xx after {timeout}s: {query}")


@pytest.fixture
def reset_model(live: Live) -> Iterator[Callable[[], None]]:
    """Put model back to v1=100 % with no faults (and no recent errors), around a test."""
    def reset() -> None:
        live.stack.router("model").set_weights({"v1": 100, "v2": 0})
        for version in ("v1", "v2"):
            live.stack.set_faults("model", version)
        live.stack.set_faults("features", "v1")

    reset()
    wait_until_quiet(live)
    yield reset
    reset()
