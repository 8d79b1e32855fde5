"""KEDA ScaledObject semantics: activation, scale to/from zero, cooldown, polling, fallback."""

from __future__ import annotations

import pytest

from autoscale.errors import PolicyError
from autoscale.policies import hpa, keda


def pods(n: int) -> list[hpa.Pod]:
    return [hpa.Pod(f"p{i}") for i in range(n)]


def step(spec: keda.KedaSpec, state: keda.KedaState, t: float, current: int,
         value: float | None) -> int:
    return keda.decide(spec, state, t, current, pods(current), value).desired


@pytest.mark.points(2)
def test_activation_threshold_gates_scale_from_zero() -> None:
    spec = keda.KedaSpec(threshold=10, activation_threshold=1, min_replicas=0)
    state = keda.KedaState()
    assert step(spec, state, 0, 0, 0.5) == 0  # 0.5 <= activation 1: stays at zero
    assert step(spec, state, 30, 0, 5.0) == 1  # active: KEDA itself scales 0 -> 1
    # from 1 the generated HPA takes over: External AverageValue 10 -> ceil(45 / 10) = 5
    assert step(spec, state, 45, 1, 45.0) == 5


@pytest.mark.points(2)
def test_cooldown_before_scale_to_zero() -> None:
    spec = keda.KedaSpec(threshold=10, activation_threshold=1, min_replicas=0,
                         polling_interval=30, cooldown_period=300)
    state = keda.KedaState()
    assert step(spec, state, 0, 2, 20.0) == 2  # active at t=0
    current = 2
    seen = {}
    for t in range(30, 400, 30):
        current = step(spec, state, t, current, 0.0)
        seen[t] = current
    assert seen[270] >= 1  # inside the cooldown the HPA keeps at least one replica
    assert seen[300] == 0  # 300 s after the last active poll: scaled to zero


@pytest.mark.points(1)
def test_activity_is_polled_every_polling_interval() -> None:
    spec = keda.KedaSpec(threshold=10, activation_threshold=1, min_replicas=0,
                         polling_interval=60)
    state = keda.KedaState()
    assert step(spec, state, 0, 0, 0.0) == 0
    assert step(spec, state, 15, 0, 50.0) == 0  # not polled yet
    assert step(spec, state, 60, 0, 50.0) == 1


@pytest.mark.points(2)
@pytest.mark.hidden
def test_fallback_after_failure_threshold() -> None:
    spec = keda.KedaSpec(threshold=10, min_replicas=1, fallback_failure_threshold=3,
                         fallback_replicas=6)
    state = keda.KedaState()
    assert step(spec, state, 0, 3, 30.0) == 3
    assert step(spec, state, 15, 3, None) == 3  # errors 1 and 2: the HPA keeps replicas
    assert step(spec, state, 30, 3, None) == 3
    assert step(spec, state, 45, 3, None) == 6  # third error: fallback replicas
    assert state.failures == 3
    assert step(spec, state, 60, 6, 30.0) == 6 and state.failures == 0


@pytest.mark.points(1)
def test_idle_replicas_and_validation() -> None:
    spec = keda.KedaSpec(threshold=10, activation_threshold=1, min_replicas=2,
                         idle_replicas=0, cooldown_period=0)
    state = keda.KedaState()
    assert step(spec, state, 0, 3, 0.0) == 0  # inactive: idleReplicaCount
    assert step(spec, state, 30, 0, 5.0) == 2  # active again: minReplicaCount
    with pytest.raises(PolicyError, match="minReplicaCount 5"):
        keda.KedaSpec(threshold=1, min_replicas=5, max_replicas=2)
    with pytest.raises(PolicyError, match="fallback needs both"):
        keda.KedaSpec(threshold=1, fallback_replicas=3)
    assert keda.replicas_for(keda.KedaSpec(threshold=10, max_replicas=8), 95) == 8
