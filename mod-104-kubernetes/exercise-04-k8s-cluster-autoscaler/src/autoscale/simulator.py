"""Replay a traffic trace against one scaling policy on a simulated cluster.

Every 15 s (the HPA sync period) the simulator: serves the step's requests with the pods that
are ready (`service.serve`), lets the policy pick a replica count from the metrics of the
previous step (metrics lag one scrape), creates or deletes pods, and runs the node provisioner
(pending pods -> new nodes after their start-up delay; scale-down or consolidation; spot
interruptions with on-demand fallback). Cost is node-hours times the price table.

Policies: `hpa-cpu` (Resource cpu Utilization, which saturates at 100 % when pods are
overloaded), `hpa-rps` (Pods metric, requests per pod), `keda` (prometheus trigger on the
request rate; scale to zero), `predictive` / `predictive-naive` (the CPU HPA, floored by a
Holt-Winters or seasonal-naive forecast ahead by pod + node start-up), `vpa` (fixed replicas,
CPU requests from the VPA recommender, pods recreated one at a time). Append `@karpenter` or
`@cluster-autoscaler` to a name to override the cluster file's provisioner.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from autoscale import service
from autoscale.clusterfile import ClusterFile
from autoscale.errors import PolicyError
from autoscale.policies import cluster, hpa, keda, predictive, vpa
from autoscale.policyfile import PolicyFile
from autoscale.traces import Trace

STEP = 15.0
POLICIES = ("hpa-cpu", "hpa-rps", "keda", "predictive", "predictive-naive", "vpa")
PROVISIONERS = ("cluster-autoscaler", "karpenter")


@dataclass
class SimPod:
    name: str
    cpu: float
    memory: float
    created_at: float
    node: cluster.Node | None = None
    ready_at: float | None = None
    request: cluster.PodRequest | None = None

    def ready(self, now: float) -> bool:
        return self.ready_at is not None and now >= self.ready_at


@dataclass
class Result:
    policy: str
    provisioner: str
    simulated_hours: float
    violation_minutes: float
    dropped_requests: float
    total_requests: float
    cost: float
    node_hours: float
    scaling_events: int
    node_events: int
    spot_interruptions: int
    max_replicas: int
    spot_node_hours: float = 0.0
    final_cpu_request: float = 0.0
    series: dict[str, list[float]] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        """The name to simulate it again: `predictive@karpenter`."""
        return f"{self.policy}@{self.provisioner}"

    @property
    def dropped_ratio(self) -> float:
        return self.dropped_requests / self.total_requests if self.total_requests else 0.0

    def as_dict(self) -> dict[str, float | int | str]:
        return {"policy": self.policy, "provisioner": self.provisioner,
                "simulated_hours": round(self.simulated_hours, 3),
                "slo_violation_minutes": round(self.violation_minutes, 2),
                "dropped_requests": round(self.dropped_requests),
                "dropped_ratio": round(self.dropped_ratio, 6),
                "cost": round(self.cost, 2), "node_hours": round(self.node_hours, 2),
                "scaling_events": self.scaling_events, "node_events": self.node_events,
                "spot_interruptions": self.spot_interruptions,
                "spot_node_hours": round(self.spot_node_hours, 2),
                "max_replicas": self.max_replicas}


Decider = Callable[[float, int, list[hpa.Pod], "Observed"], int]


@dataclass(frozen=True)
class Observed:
    """The previous step's metrics, as the policy's metric pipeline would report them."""

    arrivals: float
    cpu_per_pod: dict[str, float]  # cores, ready pods only
    requests: dict[str, float]  # CPU request per pod


class ClusterSim:
    """Nodes and pod placement under one provisioner."""

    def __init__(self, spec: ClusterFile, provisioner: str, service_app: str) -> None:
        self.spec = spec
        self.provisioner = provisioner
        self.groups = spec.groups()
        self.app = service_app
        expander = cluster.Expander.PRICE if provisioner == "karpenter" else spec.expander
        self.expander = expander
        self.nodes: list[cluster.Node] = []
        self.counter = 0
        self.last_scale_up = -math.inf
        self.backoff: dict[str, float] = {}
        self.events = 0
        self.interruptions = 0
        self.rng = np.random.default_rng(spec.spot.seed)
        pdb = spec.service.pdb
        self.budgets = [cluster.DisruptionBudget(service_app, pdb.min_available,
                                                 pdb.max_unavailable)] if pdb else []
        for group in self.groups:
            for _ in range(group.min_size):
                self._launch(group, -group.startup_seconds)

    def _launch(self, group: cluster.NodeGroup, now: float) -> cluster.Node:
        self.counter += 1
        node = cluster.Node(f"{group.name}-{self.counter}", group, now,
                            now + group.startup_seconds)
        self.nodes.append(node)
        self.events += 1
        return node

    def _remove(self, node: cluster.Node, pods: list[SimPod]) -> None:
        self.nodes.remove(node)
        self.events += 1
        for pod in pods:
            if pod.node is node:  # evicted: recreated as a pending pod (starts again)
                pod.node = pod.ready_at = pod.request = None

    def tick(self, now: float, pods: list[SimPod], pod_startup: float) -> None:
        # BEGIN SOLUTION
        self._interrupt_spot(now, pods)
        ready_nodes = [n for n in self.nodes if n.ready(now)]
        pending = [p for p in pods if p.node is None]
        if pending:
            requests = {id(p): cluster.PodRequest(p.name, p.cpu, p.memory, 0, self.app)
                        for p in pending}
            placed, _ = cluster.first_fit_decreasing(requests.values(),
                                                     [n.free() for n in ready_nodes])
            by_id = {id(requests[id(p)]): p for p in pending}
            for index, reqs in placed.items():
                node = ready_nodes[index]
                for req in reqs:
                    pod = by_id[id(req)]
                    pod.node, pod.request, pod.ready_at = node, req, now + pod_startup
                    node.pods.append(req)
            still = [requests[id(p)] for p in pending if p.node is None]
            upcoming = [n for n in self.nodes if not n.ready(now)]
            _, left = cluster.first_fit_decreasing(still, [n.free() for n in upcoming])
            if left:
                self._scale_up(now, left)
        self._scale_down(now, pods)
        # END SOLUTION

    def _scale_up(self, now: float, left: list[cluster.PodRequest]) -> None:
        """Order nodes for pods that fit neither ready nor upcoming nodes."""
        blocked = [g for g, until in self.backoff.items() if until > now]
        sizes: dict[str, int] = {}
        for node in self.nodes:
            sizes[node.group.name] = sizes.get(node.group.name, 0) + 1
        for option in cluster.scale_up_plan(left, self.groups, sizes, self.expander, blocked):
            for _ in range(option.nodes):
                self._launch(option.group, now)
            self.last_scale_up = now

    def _scale_down(self, now: float, pods: list[SimPod]) -> None:
        if self.provisioner == "karpenter":
            action = cluster.consolidate(self.nodes, self.groups, now,
                                         self.spec.consolidate_after, self.budgets)
            if action is not None and not self._has_pending(pods):
                if action.replacement is not None:
                    self._launch(action.replacement, now)
                self._remove(action.node, pods)
            return
        if now - self.last_scale_up < self.spec.scale_down.delay_after_add:
            for node in self.nodes:
                node.unneeded_since = None
            return
        for node in cluster.scale_down(self.nodes, now, self.budgets,
                                       self.spec.scale_down.utilization_threshold,
                                       self.spec.scale_down.unneeded_time):
            self._remove(node, pods)

    @staticmethod
    def _has_pending(pods: list[SimPod]) -> bool:
        return any(p.node is None for p in pods)

    def _interrupt_spot(self, now: float, pods: list[SimPod]) -> None:
        rate = self.spec.spot.interruptions_per_node_hour
        if rate <= 0:
            return
        probability = rate * STEP / 3600
        for node in [n for n in self.nodes if n.group.spot and n.ready(now)]:
            if self.rng.random() < probability:
                self.interruptions += 1
                self.backoff[node.group.name] = now + self.spec.spot.backoff_seconds
                self._remove(node, pods)

    def release(self, pod: SimPod) -> None:
        if pod.node is not None and pod.request is not None and pod.node in self.nodes:
            pod.node.pods.remove(pod.request)

    def hourly_price(self) -> float:
        return sum(n.group.price for n in self.nodes)


def _lead(spec: ClusterFile, policy: PolicyFile) -> float:
    if policy.predictive.lead_seconds is not None:
        return policy.predictive.lead_seconds
    node_startup = min((g.startup_seconds for g in spec.node_groups), default=0.0)
    return spec.service.startup_seconds + node_startup + 2 * STEP  # + one sync, one scrape


def _decider(name: str, policy: PolicyFile, spec: ClusterFile) -> Decider:
    svc = spec.service
    if name in ("hpa-cpu", "predictive", "predictive-naive"):
        cpu_target = policy.cpu_target()
        hpa_spec = hpa.HPASpec(max(policy.replicas.min, 1), policy.replicas.max,
                               (hpa.MetricSpec(hpa.MetricType.RESOURCE, "cpu",
                                               hpa.TargetType.UTILIZATION, cpu_target),),
                               policy.hpa_spec().behavior if policy.hpa.get("metrics")
                               else hpa.Behavior.default())
        state = hpa.HPAState()
        forecaster: predictive.Forecaster | None = None
        if name != "hpa-cpu":
            method = predictive.Method.SEASONAL_NAIVE if name == "predictive-naive" \
                else policy.predictive.method
            forecaster = predictive.Forecaster(
                predictive.ForecastSpec(method, policy.predictive.bucket_seconds,
                                        lead_seconds=_lead(spec, policy)), STEP)
        utilization = policy.predictive.target_utilization

        def decide_cpu(now: float, current: int, pods: list[hpa.Pod], seen: Observed) -> int:
            reading = hpa.MetricReading(per_pod=seen.cpu_per_pod, requests=seen.requests)
            decision = hpa.decide(hpa_spec, state, now, current, pods, [reading])
            desired = decision.desired
            if forecaster is not None:
                forecaster.observe(seen.arrivals)
                peak = forecaster.peak_ahead()
                if peak is not None:
                    ahead = predictive.replicas_for_rate(peak, svc.capacity_rps, utilization)
                    desired = min(max(desired, ahead), hpa_spec.max_replicas)
            return desired

        return decide_cpu
    if name == "hpa-rps":
        rps_spec = next((m for m in policy.hpa_spec().metrics
                         if m.type is hpa.MetricType.PODS), None) \
            if policy.hpa.get("metrics") else None
        target = rps_spec.target if rps_spec else svc.capacity_rps * 0.7
        spec_rps = hpa.HPASpec(max(policy.replicas.min, 1), policy.replicas.max,
                               (hpa.MetricSpec(hpa.MetricType.PODS, "http_requests_per_second",
                                               hpa.TargetType.AVERAGE_VALUE, target),))
        state_rps = hpa.HPAState()

        def decide_rps(now: float, current: int, pods: list[hpa.Pod], seen: Observed) -> int:
            ready = [p.name for p in pods if p.phase == "Running"]
            per_pod = {n: seen.arrivals / len(ready) for n in ready} if ready else {}
            reading = hpa.MetricReading(per_pod=per_pod)
            return hpa.decide(spec_rps, state_rps, now, current, pods, [reading]).desired

        return decide_rps
    if name == "keda":
        keda_spec = policy.keda_spec()
        keda_state = keda.KedaState()

        def decide_keda(now: float, current: int, pods: list[hpa.Pod], seen: Observed) -> int:
            return keda.decide(keda_spec, keda_state, now, current, pods, seen.arrivals).desired

        return decide_keda
    raise PolicyError(f"unknown policy {name!r} (known: {', '.join(POLICIES)})")


def parse_policy_name(name: str, default_provisioner: str) -> tuple[str, str]:
    base, _, provisioner = name.partition("@")
    provisioner = provisioner or default_provisioner
    if base not in POLICIES:
        raise PolicyError(f"unknown policy {base!r} (known: {', '.join(POLICIES)})")
    if provisioner not in PROVISIONERS:
        raise PolicyError(f"unknown provisioner {provisioner!r} "
                          f"(known: {', '.join(PROVISIONERS)})")
    return base, provisioner


def simulate(trace: Trace, policy_name: str, policy: PolicyFile, spec: ClusterFile,
             warmup_seconds: float = 0.0, keep_series: bool = False) -> Result:
    """Replay `trace` under one policy; metrics count only after `warmup_seconds`."""
    base, provisioner = parse_policy_name(policy_name, spec.provisioner)
    if warmup_seconds >= trace.duration:
        raise PolicyError(f"warm-up {warmup_seconds:g} s is not shorter than the trace "
                          f"({trace.duration:g} s)")
    svc = spec.service
    sim = ClusterSim(spec, provisioner, svc.name)
    decider = _vpa_decider(policy, spec) if base == "vpa" else _decider(base, policy, spec)
    pods: list[SimPod] = []
    counter = 0

    def add_pod(now: float, cpu: float) -> None:
        nonlocal counter
        counter += 1
        pods.append(SimPod(f"{svc.name}-{counter}", cpu, svc.memory_request, now))

    start_replicas = policy.replicas.min if base != "keda" else max(policy.replicas.min, 1)
    cpu_request = svc.cpu_request
    for _ in range(max(start_replicas, 1 if base == "vpa" else 0)):
        add_pod(-svc.startup_seconds - 600, cpu_request)
    sim.tick(-STEP, pods, 0.0)
    for pod in pods:  # the initial replicas are up when the trace starts
        if pod.ready_at is not None:
            pod.ready_at = -1.0
    seen = Observed(0.0, {}, {})
    totals = {"violation_s": 0.0, "dropped": 0.0, "requests": 0.0, "cost": 0.0,
              "node_hours": 0.0, "spot_hours": 0.0}
    events = 0
    max_replicas = len(pods)
    series: dict[str, list[float]] = {"t": [], "rps": [], "replicas": [], "ready": [],
                                      "nodes": [], "p95_ms": []}
    steps = int(trace.duration // STEP)
    node_events_before = sim.events
    for i in range(steps):
        now = i * STEP
        rate = trace.at(now)
        ready = [p for p in pods if p.ready(now)]
        capacity = svc.capacity_rps * (sum(p.cpu for p in ready) / cpu_request) / len(ready) \
            if ready else svc.capacity_rps
        load = service.serve(rate, len(ready), capacity, svc.base_latency_ms)
        counted = now >= warmup_seconds
        if counted:
            violated = load.p95_ms > svc.slo_latency_ms or \
                (rate > 0 and load.dropped / rate > svc.slo_max_drop_ratio)
            totals["violation_s"] += STEP if violated else 0.0
            totals["dropped"] += load.dropped * STEP
            totals["requests"] += rate * STEP
            totals["cost"] += sim.hourly_price() * STEP / 3600
            totals["node_hours"] += len(sim.nodes) * STEP / 3600
            totals["spot_hours"] += sum(1 for n in sim.nodes if n.group.spot) * STEP / 3600
        if keep_series:
            for key, value in (("t", now), ("rps", rate), ("replicas", len(pods)),
                               ("ready", len(ready)), ("nodes", len(sim.nodes)),
                               ("p95_ms", load.p95_ms)):
                series[key].append(float(value))
        # the policy sees this step's metrics (one scrape old by the next sync)
        view = [hpa.Pod(p.name, "Running" if p.node is not None else "Pending", p.ready(now))
                for p in pods]
        decision = decider(now, len(pods), view, seen)
        seen = Observed(rate, {p.name: min(svc.idle_cpu + load.utilization * p.cpu, p.cpu)
                               for p in ready}, {p.name: p.cpu for p in ready})
        if decision != len(pods):
            events += 1 if counted else 0
            _resize(pods, decision, now, partial(add_pod, cpu=cpu_request), sim)
            max_replicas = max(max_replicas, len(pods)) if counted else max_replicas
        sim.tick(now, pods, svc.startup_seconds)
        if base == "vpa":
            cpu_request = _apply_vpa(decider, pods, now, sim) or cpu_request
    return Result(base, provisioner, (trace.duration - warmup_seconds) / 3600,
                  totals["violation_s"] / 60, totals["dropped"], totals["requests"],
                  totals["cost"], totals["node_hours"], events,
                  sim.events - node_events_before, sim.interruptions, max_replicas,
                  totals["spot_hours"], cpu_request, series if keep_series else {})


def _resize(pods: list[SimPod], desired: int, now: float, add: Callable[[float], None],
            sim: ClusterSim) -> None:
    """Scale-down removes pending pods first, then the youngest (ReplicaSet's ranking)."""
    while len(pods) < desired:
        add(now)
    if len(pods) > desired:
        ranked = sorted(pods, key=lambda p: (p.node is not None, p.ready(now), -p.created_at))
        for pod in ranked[: len(pods) - desired]:
            sim.release(pod)
            pods.remove(pod)


class _VpaDecider:
    """Fixed replicas; the recommender sees per-pod CPU every minute; the updater recreates
    one pod per minute whose request is outside the recommendation's bounds."""

    def __init__(self, policy: PolicyFile, spec: ClusterFile) -> None:
        self.replicas = max(policy.replicas.min, 1)
        self.policy = policy.vpa_policy()
        self.aggregate = vpa.ContainerAggregate()
        self.recommendation: vpa.Recommendation | None = None
        self.memory = spec.service.memory_request * 1024**3
        self.last_update = -math.inf

    def __call__(self, now: float, current: int, pods: list[hpa.Pod], seen: Observed) -> int:
        if int(now) % 60 == 0:
            for name, cores in seen.cpu_per_pod.items():
                self.aggregate.add_cpu(cores, seen.requests[name], now)
                self.aggregate.add_memory(self.memory, now)
            if int(now) % 3600 == 0 and self.aggregate.samples:
                self.recommendation = vpa.recommend(self.aggregate, self.policy)
        return self.replicas


def _vpa_decider(policy: PolicyFile, spec: ClusterFile) -> Decider:
    return _VpaDecider(policy, spec)


def _apply_vpa(decider: Decider, pods: list[SimPod], now: float, sim: ClusterSim
               ) -> float | None:
    assert isinstance(decider, _VpaDecider)
    rec = decider.recommendation
    if rec is None or now - decider.last_update < 60:
        return None
    target = rec.target.cpu
    for pod in pods:
        if not rec.lower_bound.cpu <= pod.cpu <= rec.upper_bound.cpu:
            sim.release(pod)  # evicted; the admission controller sets the new request
            pod.cpu, pod.node, pod.ready_at, pod.request = target, None, None, None
            decider.last_update = now
            break
    return target


def simulate_all(trace: Trace, names: Sequence[str], policy: PolicyFile, spec: ClusterFile,
                 warmup_seconds: float = 0.0, keep_series: bool = False,
                 progress: Callable[[str], None] | None = None) -> list[Result]:
    results = []
    for name in names:
        if progress:
            progress(name)
        results.append(simulate(trace, name, policy, spec, warmup_seconds, keep_series))
    return results
