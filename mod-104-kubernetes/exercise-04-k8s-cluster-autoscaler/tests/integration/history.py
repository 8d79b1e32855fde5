"""A day of series for one deployment, written as OpenMetrics for `promtool tsdb
create-blocks-from openmetrics`, with every number the tests check derivable by hand.

ml-serving/web has two pods (web-a, web-b). Over 26 hours ending a minute before now, the
total request rate is constant within each hour h: r_h = 20 + 10 * (h % 12) for h < 24, then
120 and 140 for the last two hours; each pod gets half, 99 % answered 200 and 1 % 500.
Each pod uses 0.01 cores per request/s it serves (so 0.01 cores per request/s in total),
requests 0.5 cores and 1 GiB, and has a working set of 512 MiB, except web-b's 768 MiB
30 minutes before the end. The forecaster's gauge follows r_h. ml-serving/dup has its
External metric twice (two series): a query that must fail as ambiguous.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

STEP = 60
HOURS = 26
NAMESPACE = "ml-serving"
PODS = ("web-a", "web-b")
MIB = 1024**2


def rate_at_hour(h: int) -> float:
    if h == 24:
        return 120.0
    if h == 25:
        return 140.0
    return 20.0 + 10.0 * (h % 12)


@dataclass(frozen=True)
class History:
    start: int  # first sample (unix seconds, a multiple of STEP)
    end: int  # last sample
    text: str

    def hour_of(self, t: float) -> int:
        return int((t - self.start) // 3600)


def build(now: float | None = None) -> History:
    end = int(math.floor((now or time.time()) / STEP) * STEP) - STEP
    start = end - HOURS * 3600 + STEP
    stamps = list(range(start, end + 1, STEP))
    hours = [min(int((t - start) // 3600), HOURS - 1) for t in stamps]
    families: dict[str, tuple[str, list[str]]] = {
        "http_requests": ("counter", []), "container_cpu_usage_seconds": ("counter", []),
        "container_memory_working_set_bytes": ("gauge", []),
        "kube_pod_container_resource_requests": ("gauge", []),
        "kube_deployment_spec_replicas": ("gauge", []),
        "kube_horizontalpodautoscaler_status_current_replicas": ("gauge", []),
        "kube_horizontalpodautoscaler_spec_max_replicas": ("gauge", []),
        "autoscale_forecast_requests_per_second": ("gauge", []),
    }

    def counter(family: str, labels: str, per_second: list[float]) -> None:
        total = 1000.0
        lines = families[family][1]
        for i, t in enumerate(stamps):
            if i:
                total += per_second[i - 1] * STEP
            lines.append(f"{family}_total{{{labels}}} {total:.6f} {t}")

    def gauge(family: str, labels: str, values: list[float]) -> None:
        lines = families[family][1]
        for t, v in zip(stamps, values, strict=True):
            lines.append(f"{family}{{{labels}}} {v} {t}")

    rates = [rate_at_hour(h) for h in hours]
    for pod in PODS:
        base = f'namespace="{NAMESPACE}",deployment="web",pod="{pod}"'
        counter("http_requests", base + ',code="200"', [r / 2 * 0.99 for r in rates])
        counter("http_requests", base + ',code="500"', [r / 2 * 0.01 for r in rates])
        pod_labels = f'namespace="{NAMESPACE}",pod="{pod}",container="web"'
        counter("container_cpu_usage_seconds", pod_labels, [0.01 * r / 2 for r in rates])
        memory = [768 * MIB if pod == "web-b" and t == end - 1800 else 512 * MIB
                  for t in stamps]
        gauge("container_memory_working_set_bytes", pod_labels, memory)
        gauge("kube_pod_container_resource_requests", pod_labels + ',resource="cpu"',
              [0.5] * len(stamps))
        gauge("kube_pod_container_resource_requests", pod_labels + ',resource="memory"',
              [1024.0 * MIB] * len(stamps))
    web = f'namespace="{NAMESPACE}",deployment="web"'
    gauge("kube_deployment_spec_replicas", web, [2.0] * len(stamps))
    hpa = f'namespace="{NAMESPACE}",horizontalpodautoscaler="web"'
    gauge("kube_horizontalpodautoscaler_status_current_replicas", hpa, [2.0] * len(stamps))
    gauge("kube_horizontalpodautoscaler_spec_max_replicas", hpa, [40.0] * len(stamps))
    gauge("autoscale_forecast_requests_per_second", web, rates)
    for replica in ("0", "1"):
        gauge("autoscale_forecast_requests_per_second",
              f'namespace="{NAMESPACE}",deployment="dup",replica="{replica}"',
              [5.0] * len(stamps))
    out = []
    for family, (kind, lines) in families.items():
        out.append(f"# TYPE {family} {kind}")
        out.extend(lines)
    out.append("# EOF")
    return History(start, end, "\n".join(out) + "\n")
