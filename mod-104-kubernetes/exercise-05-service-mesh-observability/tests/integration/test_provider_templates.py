"""The Istio and Linkerd PromQL templates against series backfilled with promtool.

No mesh runs here, so the series those meshes' proxies would export are written as
OpenMetrics and loaded into a real Prometheus (`prometheus_factory(backfill=...)`). The
counters grow linearly, one sample every 15 s, so `rate()` is exactly the slope and every
expected value below is computed by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from meshobs.adapters.prometheus import PrometheusSource
from meshobs.delivery.templates import QueryContext, render_query

pytestmark = pytest.mark.integration

STEP = 15
SAMPLES = 40  # 10 minutes


def _family(lines: list[str], name: str, kind: str, series: dict[str, int], end: int) -> None:
    """`series` maps a label set to its increase per 15 s step."""
    lines.append(f"# TYPE {name} {kind}")
    for labels, per_step in series.items():
        for i in range(SAMPLES):
            lines.append(f"{labels} {i * per_step} {end - (SAMPLES - 1 - i) * STEP}")


def openmetrics(end: int) -> str:
    istio = ('reporter="destination",destination_workload_namespace="serving",'
             'destination_workload="model-v2"')
    linkerd = 'namespace="serving",deployment="model-v2",direction="inbound"'
    lines: list[str] = []
    # Istio: 10 x 200 and 1 x 503 per step -> success 10/11.
    _family(lines, "istio_requests", "counter", {
        f'istio_requests_total{{{istio},response_code="200"}}': 10,
        f'istio_requests_total{{{istio},response_code="503"}}': 1,
        # another workload's errors must not leak into model-v2's rate
        'istio_requests_total{reporter="destination",destination_workload_namespace='
        '"serving",destination_workload="model-v1",response_code="503"}': 50}, end)
    # 11 requests per step: 5 <= 10 ms, 8 <= 50, 10 <= 100, 11 <= 500.
    buckets = {"10": 5, "50": 8, "100": 10, "500": 11, "+Inf": 11}
    _family(lines, "istio_request_duration_milliseconds", "histogram", {
        **{f'istio_request_duration_milliseconds_bucket{{{istio},le="{le}"}}': n
           for le, n in buckets.items()},
        f"istio_request_duration_milliseconds_count{{{istio}}}": 11,
        f"istio_request_duration_milliseconds_sum{{{istio}}}": 900}, end)
    # Linkerd: 19 successes and 1 failure per step -> 95 %.
    _family(lines, "response", "counter", {
        f'response_total{{{linkerd},classification="success"}}': 19,
        f'response_total{{{linkerd},classification="failure"}}': 1}, end)
    # 20 per step: 2 <= 1 ms, 10 <= 5, 18 <= 10, 20 <= 50.
    lbuckets = {"1": 2, "5": 10, "10": 18, "50": 20, "+Inf": 20}
    _family(lines, "response_latency_ms", "histogram", {
        **{f'response_latency_ms_bucket{{{linkerd},le="{le}"}}': n
           for le, n in lbuckets.items()},
        f"response_latency_ms_count{{{linkerd}}}": 20,
        f"response_latency_ms_sum{{{linkerd}}}": 150}, end)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def backfilled(prometheus_factory: Callable[..., object]) -> tuple[PrometheusSource, int]:
    end = int(time.time()) - 120
    prometheus = prometheus_factory({"global": {"scrape_interval": "15s"}},
                                    backfill=openmetrics(end))
    return PrometheusSource(prometheus.url), end  # type: ignore[attr-defined]


CTX = QueryContext(service="model", version="v2", namespace="serving", interval="1m")


@pytest.mark.points(3)
@pytest.mark.parametrize(("provider", "template", "expected"), [
    ("istio", "request-success-rate", 100 * 10 / 11),
    # rank 0.99 * 11 = 10.89 falls in (100, 500] holding the 11th: 100 + 400 * 0.89
    ("istio", "request-duration-p99", 456.0),
    ("linkerd", "request-success-rate", 95.0),
    # rank 0.99 * 20 = 19.8 falls in (10, 50] holding the 19th-20th: 10 + 40 * 1.8 / 2
    ("linkerd", "request-duration-p99", 46.0),
])
def test_mesh_templates_give_hand_computed_values(
        backfilled: tuple[PrometheusSource, int], provider: str, template: str,
        expected: float) -> None:
    source, end = backfilled
    query = render_query(provider, template, None, CTX)  # type: ignore[arg-type]
    value = source.instant(query, at=end)
    assert value == pytest.approx(expected, rel=1e-9), query


@pytest.mark.points(2)
@pytest.mark.hidden
def test_templates_select_only_the_canary_workload(
        backfilled: tuple[PrometheusSource, int]) -> None:
    source, end = backfilled
    other = QueryContext(service="model", version="v3", namespace="serving", interval="1m")
    assert source.instant(render_query("istio", "request-success-rate", None, other),
                          at=end) is None
    custom = render_query("istio", None, 'sum(rate(istio_requests_total{destination_workload='
                          '"{{ target }}",response_code="503"}[{{ interval }}]))', CTX)
    assert source.instant(custom, at=end) == pytest.approx(1 / 15, rel=1e-9)
