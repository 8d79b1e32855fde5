"""The HorizontalPodAutoscaler algorithm (autoscaling/v2), transcribed from upstream.

Sources: kubernetes/pkg/controller/podautoscaler/replica_calculator.go and horizontal.go
(v1.31). What is kept exactly, because it is what surprises people in production:

* `desired = ceil(current * value / target)` per metric, skipped while the ratio is within the
  tolerance (0.1); Resource utilization is an *integer* percentage before the ratio is taken.
* pods that are Pending or not ready (CPU) are left out of the ratio; on a scale-up they count
  as 0 % and on a scale-down missing pods count as `max(100 %, target)` of their request, and
  when filling them in flips the direction, nothing changes;
* several metrics: the largest proposal wins; an invalid (missing) metric blocks scale-down,
  all metrics invalid blocks every change;
* `behavior`: stabilization windows over the *unstabilized* proposals, Pods/Percent policies per
  period counted from the replicas at the period's start, `selectPolicy` Max/Min/Disabled.

Time is a float of seconds supplied by the caller (simulator or controller), so the engine is
pure and replayable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from autoscale.errors import MetricsUnavailableError, PolicyError

DEFAULT_TOLERANCE = 0.1


class MetricType(StrEnum):
    RESOURCE = "Resource"
    PODS = "Pods"
    OBJECT = "Object"
    EXTERNAL = "External"


class TargetType(StrEnum):
    UTILIZATION = "Utilization"
    AVERAGE_VALUE = "AverageValue"
    VALUE = "Value"


class PolicyType(StrEnum):
    PODS = "Pods"
    PERCENT = "Percent"


class SelectPolicy(StrEnum):
    MAX = "Max"
    MIN = "Min"
    DISABLED = "Disabled"


@dataclass(frozen=True)
class MetricSpec:
    """One entry of `spec.metrics`: what to read and the target to hold it at."""

    type: MetricType
    name: str
    target_type: TargetType
    target: float  # percent for Utilization, else the metric's own unit

    def __post_init__(self) -> None:
        if self.target <= 0:
            raise PolicyError(f"metric {self.name}: target must be > 0 (got {self.target})")
        allowed = {
            MetricType.RESOURCE: {TargetType.UTILIZATION, TargetType.AVERAGE_VALUE},
            MetricType.PODS: {TargetType.AVERAGE_VALUE},
            MetricType.OBJECT: {TargetType.VALUE, TargetType.AVERAGE_VALUE},
            MetricType.EXTERNAL: {TargetType.VALUE, TargetType.AVERAGE_VALUE},
        }[self.type]
        if self.target_type not in allowed:
            raise PolicyError(f"metric {self.name}: a {self.type} metric cannot have a "
                              f"{self.target_type} target")


@dataclass(frozen=True)
class Pod:
    """A pod of the scale target as the controller sees it."""

    name: str
    phase: str = "Running"  # Pending, Running, Failed
    ready: bool = True  # for CPU: ready and past its initialization window
    deleting: bool = False


@dataclass(frozen=True)
class MetricReading:
    """What the metrics APIs answered for one MetricSpec.

    Resource/Pods metrics: `per_pod` (value per pod; usage in request units for Resource) and,
    for Utilization, `requests`. Object/External: `value`. A metric the API did not answer at
    all is passed as `None` instead of a reading.
    """

    per_pod: Mapping[str, float] | None = None
    requests: Mapping[str, float] | None = None
    value: float | None = None


@dataclass(frozen=True)
class HPAScalingPolicy:
    type: PolicyType
    value: int
    period_seconds: int

    def __post_init__(self) -> None:
        if self.value <= 0 or not 0 < self.period_seconds <= 1800:
            raise PolicyError(f"behavior policy {self.type}: value must be > 0 and "
                              f"periodSeconds in 1..1800")


@dataclass(frozen=True)
class ScalingRules:
    stabilization_window_seconds: int
    policies: tuple[HPAScalingPolicy, ...]
    select_policy: SelectPolicy = SelectPolicy.MAX

    def __post_init__(self) -> None:
        if not 0 <= self.stabilization_window_seconds <= 3600:
            raise PolicyError("stabilizationWindowSeconds must be in 0..3600")


@dataclass(frozen=True)
class Behavior:
    scale_up: ScalingRules
    scale_down: ScalingRules

    @staticmethod
    def default() -> Behavior:
        """The API server's defaults (autoscaling/v2 SetDefaults_HorizontalPodAutoscaler)."""
        return Behavior(
            scale_up=ScalingRules(0, (HPAScalingPolicy(PolicyType.PODS, 4, 15),
                                      HPAScalingPolicy(PolicyType.PERCENT, 100, 15))),
            scale_down=ScalingRules(300, (HPAScalingPolicy(PolicyType.PERCENT, 100, 15),)),
        )


@dataclass(frozen=True)
class HPASpec:
    min_replicas: int
    max_replicas: int
    metrics: tuple[MetricSpec, ...]
    behavior: Behavior = field(default_factory=Behavior.default)
    tolerance: float = DEFAULT_TOLERANCE

    def __post_init__(self) -> None:
        if self.min_replicas < 1:
            raise PolicyError(f"minReplicas must be >= 1 (got {self.min_replicas})")
        if self.min_replicas > self.max_replicas:
            raise PolicyError(f"minReplicas {self.min_replicas} > maxReplicas "
                              f"{self.max_replicas}")
        if not self.metrics:
            raise PolicyError("an HPA needs at least one metric")


@dataclass
class HPAState:
    """What the controller remembers between syncs of one HPA (upstream keeps it in memory)."""

    recommendations: list[tuple[float, int]] = field(default_factory=list)
    scale_up_events: list[tuple[float, int]] = field(default_factory=list)
    scale_down_events: list[tuple[float, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    desired: int
    proposal: int | None  # the metrics' answer before stabilization and rate limits
    reason: str
    per_metric: tuple[tuple[str, int | None], ...] = ()

    @property
    def able_to_scale(self) -> bool:
        return self.proposal is not None


def _group_pods(pods: Sequence[Pod], metrics: Mapping[str, float], cpu: bool
                ) -> tuple[int, set[str], set[str], set[str]]:
    """groupPods: (ready count, unready, missing, ignored) pod names."""
    ready = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        if pod.deleting or pod.phase == "Failed":
            ignored.add(pod.name)
        elif pod.phase == "Pending":
            unready.add(pod.name)
        elif pod.name not in metrics:
            missing.add(pod.name)
        elif cpu and not pod.ready:
            unready.add(pod.name)
        else:
            ready += 1
    return ready, unready, missing, ignored


def milli(value: float) -> int:
    """Quantities travel as int64 milli-units upstream; ratios are taken of those."""
    return round(value * 1000)


def _utilization_ratio(metrics: Mapping[str, float], requests: Mapping[str, float],
                       target: float) -> float:
    used = sum(milli(v) for v in metrics.values())
    requested = 0
    for name in metrics:
        if name not in requests:
            raise MetricsUnavailableError(f"missing request for pod {name}")
        requested += milli(requests[name])
    if requested <= 0:
        raise MetricsUnavailableError("no resource requests on the target's pods")
    utilization = used * 100 // requested  # upstream: integer percent
    return utilization / target


def _average_ratio(metrics: Mapping[str, float], target: float) -> float:
    """GetMetricUsageRatio: integer mean of milli-values over the milli target."""
    mean = sum(milli(v) for v in metrics.values()) // len(metrics)
    return mean / milli(target)


def _per_pod_replicas(spec: MetricSpec, reading: MetricReading, current: int,
                      pods: Sequence[Pod], tolerance: float) -> int:
    """calcPlainMetricReplicas / GetResourceReplicas (the two differ only in the ratio)."""
    # BEGIN SOLUTION
    if reading.per_pod is None:
        raise MetricsUnavailableError(f"{spec.name}: no per-pod metrics")
    utilization = spec.target_type is TargetType.UTILIZATION
    is_cpu = spec.type is MetricType.RESOURCE and spec.name == "cpu"
    metrics = dict(reading.per_pod)
    requests = dict(reading.requests or {})
    ready, unready, missing, ignored = _group_pods(pods, metrics, is_cpu)
    for name in ignored | unready:
        metrics.pop(name, None)
    # metrics for pods that are not (or no longer) targeted are dropped too
    known = {pod.name for pod in pods}
    metrics = {k: v for k, v in metrics.items() if k in known}
    if not metrics:
        raise MetricsUnavailableError(
            f"{spec.name}: did not receive metrics for targeted pods (pods might be unready)")

    def ratio(values: Mapping[str, float]) -> float:
        if utilization:
            return _utilization_ratio(values, requests, spec.target)
        return _average_ratio(values, spec.target)

    usage_ratio = ratio(metrics)
    scale_up_with_unready = bool(unready) and usage_ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - usage_ratio) <= tolerance:
            return current
        return math.ceil(usage_ratio * ready)
    if missing:
        if usage_ratio < 1.0:
            for name in missing:
                if utilization:  # max(100 %, target) of the request (v1.30+)
                    metrics[name] = requests.get(name, 0.0) * max(100.0, spec.target) / 100
                else:
                    metrics[name] = spec.target
        else:
            for name in missing:
                metrics[name] = 0.0
    if scale_up_with_unready:
        for name in unready:
            metrics[name] = 0.0
    new_ratio = ratio(metrics)
    if abs(1.0 - new_ratio) <= tolerance or (usage_ratio < 1.0 < new_ratio) \
            or (usage_ratio > 1.0 > new_ratio):
        return current
    new_replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
        return current
    return new_replicas
    # END SOLUTION


def _ready_pods(pods: Sequence[Pod]) -> int:
    return sum(1 for p in pods if p.phase == "Running" and p.ready and not p.deleting)


def replicas_for_metric(spec: MetricSpec, reading: MetricReading | None, current: int,
                        pods: Sequence[Pod], tolerance: float = DEFAULT_TOLERANCE) -> int:
    """The replica count one metric asks for; MetricsUnavailableError when it cannot say."""
    if reading is None:
        raise MetricsUnavailableError(f"{spec.name}: metric not available")
    if spec.type in (MetricType.RESOURCE, MetricType.PODS):
        return _per_pod_replicas(spec, reading, current, pods, tolerance)
    # BEGIN SOLUTION
    if reading.value is None or math.isnan(reading.value):
        raise MetricsUnavailableError(f"{spec.name}: metric not available")
    usage, target = milli(reading.value), milli(spec.target)
    if spec.target_type is TargetType.AVERAGE_VALUE:
        # GetExternalPerPodMetricReplicas / GetObjectPerPodMetricReplicas
        usage_ratio = usage / (target * current) if current else math.inf
        if current and abs(1.0 - usage_ratio) <= tolerance:
            return current
        return math.ceil(usage / target)
    # Value target: getUsageRatioReplicaCount
    usage_ratio = usage / target
    if current == 0:
        return math.ceil(usage_ratio)
    if abs(1.0 - usage_ratio) <= tolerance:
        return current
    return math.ceil(usage_ratio * _ready_pods(pods))
    # END SOLUTION


def _change_in_period(period: int, events: Sequence[tuple[float, int]], now: float) -> int:
    cutoff = now - period
    return sum(change for t, change in events if t > cutoff)


def scale_up_limit(current: int, up: Sequence[tuple[float, int]],
                   down: Sequence[tuple[float, int]], rules: ScalingRules, now: float) -> int:
    """calculateScaleUpLimitWithScalingRules."""
    # BEGIN SOLUTION
    if rules.select_policy is SelectPolicy.DISABLED:
        return current
    pick = min if rules.select_policy is SelectPolicy.MIN else max
    result: int | None = None
    for policy in rules.policies:
        start = current - _change_in_period(policy.period_seconds, up, now) \
            + _change_in_period(policy.period_seconds, down, now)
        if policy.type is PolicyType.PODS:
            proposed = start + policy.value
        else:
            proposed = math.ceil(start * (1 + policy.value / 100))
        result = proposed if result is None else pick(result, proposed)
    return current if result is None else result
    # END SOLUTION


def scale_down_limit(current: int, up: Sequence[tuple[float, int]],
                     down: Sequence[tuple[float, int]], rules: ScalingRules, now: float) -> int:
    """calculateScaleDownLimitWithBehaviors (Min keeps the most replicas, Max the fewest)."""
    # BEGIN SOLUTION
    if rules.select_policy is SelectPolicy.DISABLED:
        return current
    pick = max if rules.select_policy is SelectPolicy.MIN else min
    result: int | None = None
    for policy in rules.policies:
        start = current - _change_in_period(policy.period_seconds, up, now) \
            + _change_in_period(policy.period_seconds, down, now)
        if policy.type is PolicyType.PODS:
            proposed = start - policy.value
        else:
            proposed = int(start * (1 - policy.value / 100))  # Go's int32() truncates
        result = proposed if result is None else pick(result, proposed)
    return current if result is None else result
    # END SOLUTION


def stabilize(state: HPAState, behavior: Behavior, proposal: int, current: int,
              now: float) -> int:
    """stabilizeRecommendationWithBehaviors: bound by the window's min (up) and max (down)
    proposals, then remember the unstabilized proposal."""
    # BEGIN SOLUTION
    up_cutoff = now - behavior.scale_up.stabilization_window_seconds
    down_cutoff = now - behavior.scale_down.stabilization_window_seconds
    up_rec = down_rec = proposal
    old_index: int | None = None
    for index, (t, rec) in enumerate(state.recommendations):
        if t > up_cutoff:
            up_rec = min(up_rec, rec)
        if t > down_cutoff:
            down_rec = max(down_rec, rec)
        if t < up_cutoff and t < down_cutoff:
            old_index = index
    recommendation = current
    recommendation = max(recommendation, up_rec)
    recommendation = min(recommendation, down_rec)
    if old_index is not None:
        state.recommendations[old_index] = (now, proposal)
    else:
        state.recommendations.append((now, proposal))
    return recommendation
    # END SOLUTION


def apply_rate_limits(state: HPAState, spec: HPASpec, desired: int, current: int,
                      now: float) -> tuple[int, str]:
    """convertDesiredReplicasWithBehaviorRate: policies per period, then min/max."""
    behavior = spec.behavior
    if desired > current:
        limit = max(scale_up_limit(current, state.scale_up_events, state.scale_down_events,
                                   behavior.scale_up, now), current)
        if spec.max_replicas > limit:
            allowed, reason = limit, "ScaleUpLimit"
        else:
            allowed, reason = spec.max_replicas, "TooManyReplicas"
        if desired > allowed:
            return allowed, reason
    elif desired < current:
        limit = min(scale_down_limit(current, state.scale_up_events, state.scale_down_events,
                                     behavior.scale_down, now), current)
        if spec.min_replicas < limit:
            allowed, reason = limit, "ScaleDownLimit"
        else:
            allowed, reason = spec.min_replicas, "TooFewReplicas"
        if desired < allowed:
            return allowed, reason
    return desired, "DesiredWithinRange"


def record_scale(state: HPAState, spec: HPASpec, previous: int, new: int, now: float) -> None:
    """storeScaleEvent: remember changes for the period policies; forget expired ones."""
    longest = max((p.period_seconds for rules in (spec.behavior.scale_up,
                                                  spec.behavior.scale_down)
                   for p in rules.policies), default=0)
    cutoff = now - longest
    state.scale_up_events[:] = [e for e in state.scale_up_events if e[0] > cutoff]
    state.scale_down_events[:] = [e for e in state.scale_down_events if e[0] > cutoff]
    if new > previous:
        state.scale_up_events.append((now, new - previous))
    elif new < previous:
        state.scale_down_events.append((now, previous - new))


def decide(spec: HPASpec, state: HPAState, now: float, current: int, pods: Sequence[Pod],
           readings: Sequence[MetricReading | None]) -> Decision:
    """One sync of the HPA controller: the replica count to set now (records the change)."""
    if len(readings) != len(spec.metrics):
        raise ValueError("one reading (or None) per metric spec")
    if current == 0:
        return Decision(0, None, "ScalingDisabled")
    if current > spec.max_replicas:
        desired, reason, proposal = spec.max_replicas, "AboveMaxReplicas", spec.max_replicas
    elif current < spec.min_replicas:
        desired, reason, proposal = spec.min_replicas, "BelowMinReplicas", spec.min_replicas
    else:
        per_metric: list[tuple[str, int | None]] = []
        best: int | None = None
        invalid: list[str] = []
        for metric, reading in zip(spec.metrics, readings, strict=True):
            try:
                replicas = replicas_for_metric(metric, reading, current, pods, spec.tolerance)
            except MetricsUnavailableError as exc:
                invalid.append(str(exc))
                per_metric.append((metric.name, None))
                continue
            per_metric.append((metric.name, replicas))
            best = replicas if best is None else max(best, replicas)
        if best is None or (invalid and best < current):
            return Decision(current, None,
                            f"FailedGetMetrics: invalid metrics ({len(invalid)} invalid out "
                            f"of {len(spec.metrics)}), first error is: {invalid[0]}",
                            tuple(per_metric))
        proposal = best
        stabilized = stabilize(state, spec.behavior, proposal, current, now)
        desired, reason = apply_rate_limits(state, spec, stabilized, current, now)
        desired = min(max(desired, spec.min_replicas), spec.max_replicas)
        if desired != current:
            record_scale(state, spec, current, desired, now)
        return Decision(desired, proposal, reason, tuple(per_metric))
    if desired != current:
        record_scale(state, spec, current, desired, now)
    return Decision(desired, proposal, reason)
