"""The controller: read the policy's metrics from Prometheus, decide with the HPA engine and
apply through the Kubernetes API (the scale subresource, plus an Event per decision).

Safety rules, because a wrong scale-down drops traffic:
* dry-run unless `apply=True`: it logs what it would do and writes nothing;
* a metric with no data, or one query returning several series, means *no decision*:
  nothing is written, not even an Event;
* rate limit: at most one change per `min_interval` seconds (on top of the HPA behavior).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from autoscale import queries
from autoscale.adapters.kube import KubeAdapter
from autoscale.adapters.prometheus import PrometheusClient
from autoscale.errors import MetricsUnavailableError
from autoscale.policies import hpa
from autoscale.policyfile import PolicyFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    current: int
    desired: int
    applied: bool
    reason: str

    @property
    def changed(self) -> bool:
        return self.desired != self.current


def _counter_for(metric: str) -> str:
    return metric.removesuffix("_per_second") + "_total"


def read_metric(prom: PrometheusClient, spec: hpa.MetricSpec, namespace: str,
                deployment: str, at: float | None = None) -> hpa.MetricReading:
    """One MetricSpec from Prometheus (at `at`, default: now); MetricsUnavailableError when
    there is no data."""
    # BEGIN SOLUTION
    if spec.type is hpa.MetricType.RESOURCE:
        if spec.name != "cpu":
            usage_q = queries.memory_per_pod(namespace, deployment)
        else:
            usage_q = queries.cpu_per_pod(namespace, deployment, "5m")
        usage = {s.labels.get("pod", ""): s.points[-1][1] for s in prom.query(usage_q, at)}
        if not usage:
            raise MetricsUnavailableError(f"query returned no series: {usage_q}")
        requests_q = (f'max by (pod) (kube_pod_container_resource_requests{{namespace='
                      f'"{namespace}",pod=~"{deployment}-.*",resource="{spec.name}"}})')
        requests = {s.labels.get("pod", ""): s.points[-1][1] for s in prom.query(requests_q, at)}
        if spec.target_type is hpa.TargetType.UTILIZATION and not requests:
            raise MetricsUnavailableError(f"query returned no series: {requests_q}")
        return hpa.MetricReading(per_pod=usage, requests=requests)
    if spec.type is hpa.MetricType.PODS:
        q = (f"sum by (pod) (rate({_counter_for(spec.name)}{{namespace=\"{namespace}\","
             f"deployment=\"{deployment}\"}}[5m]))")
        per_pod = {s.labels.get("pod", ""): s.points[-1][1] for s in prom.query(q, at)}
        if not per_pod:
            raise MetricsUnavailableError(f"query returned no series: {q}")
        return hpa.MetricReading(per_pod=per_pod)
    q = f'{spec.name}{{namespace="{namespace}",deployment="{deployment}"}}'
    return hpa.MetricReading(value=prom.scalar(q, at))
    # END SOLUTION


@dataclass
class Controller:
    policy: PolicyFile
    prometheus: PrometheusClient
    kube: KubeAdapter
    apply: bool = False
    min_interval: float = 60.0
    clock: Callable[[], float] = field(default=lambda: 0.0)
    query_time: Callable[[], float | None] = field(default=lambda: None)  # None: server now
    state: hpa.HPAState = field(default_factory=hpa.HPAState)
    last_change: float | None = None

    def sync_once(self) -> Outcome:
        """One reconcile: metrics -> decision -> (maybe) scale + Event."""
        # BEGIN SOLUTION
        namespace, name = self.policy.namespace, self.policy.target.name
        spec = self.policy.hpa_spec()
        current, selector = self.kube.read_scale(namespace, name)
        readings: list[hpa.MetricReading | None] = []
        for metric in spec.metrics:
            try:
                readings.append(read_metric(self.prometheus, metric, namespace, name,
                                             self.query_time()))
            except MetricsUnavailableError as exc:
                log.warning("no decision: %s", exc)
                return Outcome(current, current, False, f"MissingMetrics: {exc}")
        pods = self.kube.pods(namespace, selector)
        now = self.clock()
        decision = hpa.decide(spec, self.state, now, current, pods, readings)
        if not decision.able_to_scale and decision.reason.startswith("FailedGetMetrics"):
            return Outcome(current, current, False, decision.reason)
        if decision.desired == current:
            return Outcome(current, current, False, decision.reason)
        if self.last_change is not None and now - self.last_change < self.min_interval:
            return Outcome(current, decision.desired, False,
                           f"RateLimited: last change {now - self.last_change:.0f} s ago")
        message = (f"New size: {decision.desired}; reason: {decision.reason}; metrics: "
                   + ", ".join(f"{n}={r}" for n, r in decision.per_metric))
        if not self.apply:
            log.info("dry-run: would scale %s/%s %d -> %d (%s)", namespace, name, current,
                     decision.desired, decision.reason)
            return Outcome(current, decision.desired, False, f"DryRun: {decision.reason}")
        self.kube.scale(namespace, name, decision.desired)
        self.kube.event(namespace, name, "SuccessfulRescale", message)
        self.last_change = now
        return Outcome(current, decision.desired, True, decision.reason)
        # END SOLUTION
