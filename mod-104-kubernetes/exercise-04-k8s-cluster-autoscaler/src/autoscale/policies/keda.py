"""KEDA's ScaledObject semantics (v2.16): activation, scale to and from zero, cooldown,
fallback, with the HPA it creates doing the 1..N part.

Sources: kedacore/keda pkg/scaling/executor/scale_scaledobjects.go, pkg/fallback/fallback.go.

* Every `pollingInterval` the scaler is asked whether the workload is *active*
  (`value > activationThreshold`). Active at 0 replicas: KEDA itself scales to
  `max(minReplicaCount, 1)`. Inactive for `cooldownPeriod` since the last active poll (or never
  active at all): KEDA scales to `idleReplicaCount` or `minReplicaCount` (often 0).
* Between 1 and N replicas the generated HPA runs on the metric as an External
  `AverageValue` target of `threshold` per replica, synced every 15 s like any HPA.
* After `fallback.failureThreshold` consecutive scaler errors, the metrics adapter answers
  `fallback.replicas * threshold`, so the HPA settles at `fallback.replicas`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from autoscale.errors import PolicyError
from autoscale.policies import hpa


@dataclass(frozen=True)
class KedaSpec:
    threshold: float  # target value per replica
    activation_threshold: float = 0.0
    min_replicas: int = 0
    max_replicas: int = 100
    polling_interval: int = 30
    cooldown_period: int = 300
    idle_replicas: int | None = None
    fallback_failure_threshold: int | None = None
    fallback_replicas: int | None = None
    behavior: hpa.Behavior = field(default_factory=hpa.Behavior.default)

    def __post_init__(self) -> None:
        if self.min_replicas < 0 or self.min_replicas > self.max_replicas:
            raise PolicyError(f"minReplicaCount {self.min_replicas} must be in "
                              f"0..maxReplicaCount {self.max_replicas}")
        if self.threshold <= 0:
            raise PolicyError("trigger threshold must be > 0")
        if self.idle_replicas is not None and self.idle_replicas >= self.min_replicas \
                and self.min_replicas > 0:
            raise PolicyError("idleReplicaCount must be lower than minReplicaCount")
        if (self.fallback_failure_threshold is None) != (self.fallback_replicas is None):
            raise PolicyError("fallback needs both failureThreshold and replicas")

    def hpa_spec(self) -> hpa.HPASpec:
        """The HPA KEDA generates: External metric, AverageValue = threshold."""
        return hpa.HPASpec(
            min_replicas=max(self.min_replicas, 1), max_replicas=self.max_replicas,
            metrics=(hpa.MetricSpec(hpa.MetricType.EXTERNAL, "s0-trigger",
                                    hpa.TargetType.AVERAGE_VALUE, self.threshold),),
            behavior=self.behavior)


@dataclass
class KedaState:
    last_poll: float | None = None
    last_active: float | None = None
    active: bool = False
    failures: int = 0
    hpa_state: hpa.HPAState = field(default_factory=hpa.HPAState)


def decide(spec: KedaSpec, state: KedaState, now: float, current: int,
           pods: Sequence[hpa.Pod], value: float | None) -> hpa.Decision:
    """One HPA sync (every 15 s). `value` is the scaler's metric now; None = scaler error."""
    # BEGIN SOLUTION
    if value is None:
        state.failures += 1
    else:
        state.failures = 0
    if state.last_poll is None or now - state.last_poll >= spec.polling_interval:
        state.last_poll = now
        state.active = value is not None and value > spec.activation_threshold
        if state.active:
            state.last_active = now
    floor = spec.idle_replicas if spec.idle_replicas is not None else spec.min_replicas
    if current == 0 or (spec.idle_replicas is not None and current == spec.idle_replicas):
        if state.active:
            return hpa.Decision(max(spec.min_replicas, 1), None, "KEDAScaledFromZero")
        return hpa.Decision(current, None, "KEDAInactive")
    if not state.active and floor < max(spec.min_replicas, 1) and (
            state.last_active is None or now - state.last_active >= spec.cooldown_period):
        state.hpa_state = hpa.HPAState()  # the HPA starts afresh after scale to zero
        return hpa.Decision(floor, None, "KEDAScaledToZero")
    metric_value = value
    if value is None:
        fallback_ready = spec.fallback_failure_threshold is not None \
            and state.failures >= spec.fallback_failure_threshold
        if not fallback_ready:
            metric_value = None  # the adapter errors: the HPA keeps its replicas
        else:
            assert spec.fallback_replicas is not None
            metric_value = spec.fallback_replicas * spec.threshold
    reading = None if metric_value is None else hpa.MetricReading(value=metric_value)
    return hpa.decide(spec.hpa_spec(), state.hpa_state, now, current, pods, [reading])
    # END SOLUTION


def replicas_for(spec: KedaSpec, value: float) -> int:
    """Steady-state replicas for a constant metric value (for docs and the advisor)."""
    if value <= spec.activation_threshold:
        return spec.idle_replicas if spec.idle_replicas is not None else spec.min_replicas
    return min(max(math.ceil(value / spec.threshold), max(spec.min_replicas, 1)),
               spec.max_replicas)
