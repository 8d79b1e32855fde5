"""The advisor: from a day (or more) of request rate, CPU and memory history, recommend HPA
targets, VPA requests and a node-group mix, each number with the evidence it came from.

The arithmetic (`advise`) is pure; `gather` reads the series through the Prometheus adapter.

* cores per request/s: least squares through the origin of total CPU on request rate;
* VPA requests: the recommender (policies/vpa.py) fed every pod's CPU samples (weighted by
  the pod's CPU request) and every pod's daily memory peak;
* per-pod capacity: the VPA CPU target divided by cores per request/s;
* HPA CPU target: pods must absorb the largest growth of the rate seen within the start-up
  lead time while new pods start: `100 / (1 + growth)`, clamped to 40..85 %, rounded down to
  a multiple of 5; the Pods-metric target is that share of the per-pod capacity;
* replicas: min from the trough (at least 2 for availability), max 1.5x the peak;
* node mix: the trough's pods on the cheapest on-demand type, the rest of the peak on the
  cheapest spot type (price per pod from the shipped table).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from autoscale import prices, quantity, queries
from autoscale.adapters.prometheus import PrometheusClient
from autoscale.errors import MetricsUnavailableError
from autoscale.policies import cluster, vpa

MIN_AVAILABLE_REPLICAS = 2


@dataclass(frozen=True)
class History:
    """What Prometheus holds for one deployment over the window (unix seconds -> value)."""

    rate: Sequence[tuple[float, float]]  # total requests/s
    total_cpu: Sequence[tuple[float, float]]  # total cores
    cpu_per_pod: Mapping[str, Sequence[tuple[float, float]]]
    memory_per_pod: Mapping[str, Sequence[tuple[float, float]]]
    cpu_request: float  # cores per pod (current)
    step: float


@dataclass(frozen=True)
class NodeShare:
    instance_type: str
    capacity: str  # on-demand | spot
    nodes: int
    pods: int
    hourly_cost: float


@dataclass(frozen=True)
class Advice:
    peak_rps: float
    trough_rps: float
    cores_per_rps: float
    growth_within_lead: float
    per_pod_capacity_rps: float
    hpa_cpu_target: int
    hpa_rps_target: float
    min_replicas: int
    max_replicas: int
    vpa: vpa.Recommendation
    node_mix: tuple[NodeShare, ...]
    evidence: tuple[tuple[str, str, str], ...] = field(default=())  # (what, value, source)


def _values(points: Sequence[tuple[float, float]]) -> list[float]:
    return [v for _, v in points]


def growth_within(points: Sequence[tuple[float, float]], lead: float, step: float) -> float:
    """Largest relative rise of the series between any t and t + lead."""
    # BEGIN SOLUTION
    values = _values(points)
    ahead = max(math.ceil(lead / step), 1)
    worst = 0.0
    for i in range(len(values) - 1):
        base = values[i]
        if base <= 0:
            continue
        future = max(values[i + 1: i + 1 + ahead])
        worst = max(worst, future / base - 1)
    return worst
    # END SOLUTION


def cores_per_rps(rate: Sequence[tuple[float, float]],
                  cpu: Sequence[tuple[float, float]]) -> float:
    """Least squares through the origin over the timestamps both series have."""
    # BEGIN SOLUTION
    cpu_at = dict(cpu)
    pairs = [(r, cpu_at[t]) for t, r in rate if t in cpu_at]
    denominator = sum(r * r for r, _ in pairs)
    if not pairs or denominator <= 0:
        raise MetricsUnavailableError("no overlapping request-rate and CPU samples")
    return sum(r * c for r, c in pairs) / denominator
    # END SOLUTION


def vpa_recommendation(history: History, policy: vpa.ContainerPolicy | None = None
                       ) -> vpa.Recommendation:
    """Every pod's samples into one container aggregate, as the recommender aggregates."""
    aggregate = vpa.ContainerAggregate()
    for pod in sorted(history.cpu_per_pod):
        for t, cores in history.cpu_per_pod[pod]:
            aggregate.add_cpu(cores, history.cpu_request, t)
    for pod in sorted(history.memory_per_pod):
        peaks: dict[float, float] = {}
        for t, size in history.memory_per_pod[pod]:
            window = math.floor(t / vpa.MEMORY_AGGREGATION_INTERVAL_S) \
                * vpa.MEMORY_AGGREGATION_INTERVAL_S
            peaks[window] = max(peaks.get(window, 0.0), size)
        for window, peak in peaks.items():
            aggregate.memory.add(peak, 1.0, window)
    return vpa.recommend(aggregate, policy)


def hpa_cpu_target(growth: float) -> int:
    """100 / (1 + growth) %, clamped to 40..85, rounded down to a multiple of 5."""
    raw = 100 / (1 + max(growth, 0.0))
    return int(min(max(raw, 40.0), 85.0) // 5 * 5)


def node_mix(base_pods: int, peak_pods: int, pod_cpu: float, pod_memory_gib: float
             ) -> tuple[NodeShare, ...]:
    """Cheapest on-demand type for the base load, cheapest spot type for the burst."""
    pod = cluster.PodRequest("p", pod_cpu, pod_memory_gib)

    def cheapest(spot: bool, pods: int) -> NodeShare | None:
        if pods <= 0:
            return None
        best: NodeShare | None = None
        for kind in prices.table().values():
            if kind.gpu:
                continue
            group = cluster.NodeGroup(kind.name, kind.name, kind.cpu, kind.memory,
                                      kind.price(spot), max_size=10_000, spot=spot)
            option = cluster.estimate(group, [pod] * pods, 10_000)
            if option is None or len(option.pods) < pods:
                continue
            share = NodeShare(kind.name, "spot" if spot else "on-demand", option.nodes, pods,
                              round(option.price, 4))
            if best is None or (share.hourly_cost, share.nodes) < (best.hourly_cost,
                                                                   best.nodes):
                best = share
        return best

    shares = [cheapest(False, base_pods), cheapest(True, peak_pods - base_pods)]
    return tuple(s for s in shares if s is not None)


def advise(history: History, lead_seconds: float = 180.0,
           policy: vpa.ContainerPolicy | None = None) -> Advice:
    """All recommendations from the history (pure)."""
    if len(history.rate) < 2:
        raise MetricsUnavailableError("fewer than two request-rate samples in the window")
    rates = _values(history.rate)
    peak, trough = max(rates), min(rates)
    slope = cores_per_rps(history.rate, history.total_cpu)
    rec = vpa_recommendation(history, policy)
    capacity = rec.target.cpu / slope if slope > 0 else math.inf
    growth = growth_within(history.rate, lead_seconds, history.step)
    cpu_target = hpa_cpu_target(growth)
    rps_target = capacity * cpu_target / 100
    min_replicas = max(math.ceil(trough / rps_target), MIN_AVAILABLE_REPLICAS)
    max_replicas = max(math.ceil(1.5 * peak / rps_target), min_replicas)
    peak_pods = max(math.ceil(peak / rps_target), min_replicas)
    mix = node_mix(min_replicas, peak_pods, rec.target.cpu, rec.target.memory / 1024**3)
    evidence = (
        ("peak request rate", f"{peak:.2f}/s", "max of " + "request_rate"),
        ("trough request rate", f"{trough:.2f}/s", "min of request_rate"),
        ("cores per request/s", f"{slope:.5f}", "least squares of total_cpu on request_rate"),
        ("largest growth within lead", f"{growth * 100:.1f} % in {lead_seconds:g} s",
         "request_rate"),
        ("VPA confidence", f"{rec.confidence:.2f}", "min(days, samples/1440)"),
        ("VPA CPU target", quantity.cpu(rec.target.cpu), "p90 of cpu_per_pod + 15 %"),
        ("VPA memory target", quantity.memory(rec.target.memory),
         "p90 of daily memory peaks + 15 %"),
        ("per-pod capacity", f"{capacity:.2f}/s", "VPA CPU target / cores per request/s"),
    )
    return Advice(peak, trough, slope, growth, capacity, cpu_target, rps_target, min_replicas,
                  max_replicas, rec, mix, evidence)


def gather(client: PrometheusClient, namespace: str, deployment: str, start: float,
           end: float, step: float = 60.0) -> History:
    """Read the series `advise` needs; no data for any of them is an error naming it."""
    rate_q = queries.request_rate(namespace, deployment)
    rate = client.one(client.query_range(rate_q, start, end, step), rate_q).points
    cpu_q = queries.total_cpu(namespace, deployment)
    total_cpu = client.one(client.query_range(cpu_q, start, end, step), cpu_q).points
    per_pod_q = queries.cpu_per_pod(namespace, deployment)
    per_pod = {s.labels.get("pod", "?"): s.points
               for s in client.query_range(per_pod_q, start, end, step)}
    mem_q = queries.memory_per_pod(namespace, deployment)
    memory = {s.labels.get("pod", "?"): s.points
              for s in client.query_range(mem_q, start, end, step)}
    if not per_pod:
        raise MetricsUnavailableError(f"query returned no series: {per_pod_q}")
    if not memory:
        raise MetricsUnavailableError(f"query returned no series: {mem_q}")
    request_q = queries.cpu_request_per_pod(namespace, deployment)
    found = client.query(request_q, at=end)
    cpu_request = client.one(found, request_q).points[-1][1] if found else vpa.MIN_SAMPLE_WEIGHT
    return History(rate, total_cpu, per_pod, memory, cpu_request, step)
