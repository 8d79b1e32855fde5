"""HPA known answers: the Kubernetes docs' examples and hand-computed behavior sequences."""

from __future__ import annotations

import pytest

from autoscale.errors import PolicyError
from autoscale.policies import hpa

CPU70 = hpa.MetricSpec(hpa.MetricType.RESOURCE, "cpu", hpa.TargetType.UTILIZATION, 70)
CPU50 = hpa.MetricSpec(hpa.MetricType.RESOURCE, "cpu", hpa.TargetType.UTILIZATION, 50)
QPS100M = hpa.MetricSpec(hpa.MetricType.PODS, "qps", hpa.TargetType.AVERAGE_VALUE, 0.1)


def pods(n: int, **kw: object) -> list[hpa.Pod]:
    return [hpa.Pod(f"p{i}", **kw) for i in range(n)]  # type: ignore[arg-type]


def per_pod(values: list[float]) -> dict[str, float]:
    return {f"p{i}": v for i, v in enumerate(values)}


@pytest.mark.points(2)
def test_docs_example_doubles_and_halves() -> None:
    """kubernetes.io HPA docs: 200m observed vs 100m target doubles; 50m halves."""
    reading = hpa.MetricReading(per_pod=per_pod([0.2] * 3))
    assert hpa.replicas_for_metric(QPS100M, reading, 3, pods(3)) == 6
    reading = hpa.MetricReading(per_pod=per_pod([0.05] * 4))
    assert hpa.replicas_for_metric(QPS100M, reading, 4, pods(4)) == 2


@pytest.mark.points(1)
def test_tolerance_keeps_replicas() -> None:
    reading = hpa.MetricReading(per_pod=per_pod([0.105] * 4))  # ratio 1.05 <= 1.1
    assert hpa.replicas_for_metric(QPS100M, reading, 4, pods(4)) == 4
    reading = hpa.MetricReading(per_pod=per_pod([0.12] * 4))  # ratio 1.2: ceil(4.8)
    assert hpa.replicas_for_metric(QPS100M, reading, 4, pods(4)) == 5


@pytest.mark.points(2)
def test_utilization_is_usage_over_requests() -> None:
    # 3 pods request 0.5 cores, use 0.7 each: 140 % of request vs 70 % target -> 6
    reading = hpa.MetricReading(per_pod=per_pod([0.7] * 3), requests=per_pod([0.5] * 3))
    assert hpa.replicas_for_metric(CPU70, reading, 3, pods(3)) == 6


@pytest.mark.points(2)
def test_missing_pods_block_a_false_scale_down() -> None:
    """2 of 4 pods report 60 % (target 50): the naive ceil(1.2 * 2) = 3 would scale *down*;
    the missing pods count as 0 % on a scale-up, which flips the direction: stay at 4."""
    reading = hpa.MetricReading(per_pod=per_pod([0.6, 0.6]), requests=per_pod([1.0] * 4))
    assert hpa.replicas_for_metric(CPU50, reading, 4, pods(4)) == 4


@pytest.mark.points(2)
def test_missing_pods_count_as_full_request_on_scale_down() -> None:
    """3 pods at 20 % (target 50), one missing counted at max(100 %, target): 40 % ->
    ratio 0.8 -> ceil(3.2) = 4 = current (the naive ceil(0.4 * 3) = 2 is avoided)."""
    reading = hpa.MetricReading(per_pod=per_pod([0.2, 0.2, 0.2]),
                                requests=per_pod([1.0] * 4))
    assert hpa.replicas_for_metric(CPU50, reading, 4, pods(4)) == 4


@pytest.mark.points(2)
@pytest.mark.hidden
def test_unready_pods_count_as_zero_on_scale_up() -> None:
    view = [hpa.Pod("p0"), hpa.Pod("p1"), hpa.Pod("p2", ready=False),
            hpa.Pod("p3", phase="Pending")]
    reading = hpa.MetricReading(per_pod=per_pod([0.6, 0.6, 0.9]), requests=per_pod([1.0] * 4))
    # ready pods at 60 %: ratio 1.2; with the unready pods at 0 %: 30 % -> flips -> 4
    assert hpa.replicas_for_metric(CPU50, reading, 4, view) == 4
    # at 150 % the scale-up survives: (1.5 + 1.5 + 0 + 0) / 4 = 75 % -> ceil(1.5 * 4) = 6
    reading = hpa.MetricReading(per_pod=per_pod([1.5, 1.5, 0.9]), requests=per_pod([1.0] * 4))
    assert hpa.replicas_for_metric(CPU50, reading, 4, view) == 6


@pytest.mark.points(1)
def test_failed_and_deleting_pods_are_ignored() -> None:
    view = [hpa.Pod("p0"), hpa.Pod("p1"), hpa.Pod("p2", phase="Failed"),
            hpa.Pod("p3", deleting=True)]
    reading = hpa.MetricReading(per_pod=per_pod([0.2, 0.2, 5.0, 5.0]))
    assert hpa.replicas_for_metric(QPS100M, reading, 4, view) == 4  # 2 ready * ratio 2


@pytest.mark.points(2)
def test_external_and_object_targets() -> None:
    value = hpa.MetricSpec(hpa.MetricType.EXTERNAL, "queue", hpa.TargetType.VALUE, 100)
    average = hpa.MetricSpec(hpa.MetricType.EXTERNAL, "queue", hpa.TargetType.AVERAGE_VALUE, 30)
    obj = hpa.MetricSpec(hpa.MetricType.OBJECT, "ingress_rps", hpa.TargetType.VALUE, 10)
    assert hpa.replicas_for_metric(value, hpa.MetricReading(value=250), 2, pods(2)) == 5
    assert hpa.replicas_for_metric(average, hpa.MetricReading(value=250), 2, pods(2)) == 9
    assert hpa.replicas_for_metric(average, hpa.MetricReading(value=62), 2, pods(2)) == 2
    assert hpa.replicas_for_metric(obj, hpa.MetricReading(value=30), 3, pods(3)) == 9


@pytest.mark.points(2)
def test_several_metrics_take_the_largest() -> None:
    spec = hpa.HPASpec(1, 20, (CPU70, QPS100M))
    readings = [hpa.MetricReading(per_pod=per_pod([0.35] * 3), requests=per_pod([0.5] * 3)),
                hpa.MetricReading(per_pod=per_pod([0.2] * 3))]
    decision = hpa.decide(spec, hpa.HPAState(), 0, 3, pods(3), readings)
    assert decision.per_metric == (("cpu", 3), ("qps", 6))
    assert decision.desired == 6


@pytest.mark.points(2)
def test_invalid_metric_blocks_scale_down_but_not_scale_up() -> None:
    spec = hpa.HPASpec(1, 20, (CPU70, QPS100M))
    low = hpa.MetricReading(per_pod=per_pod([0.01] * 4))
    high = hpa.MetricReading(per_pod=per_pod([0.3] * 4))
    down = hpa.decide(spec, hpa.HPAState(), 0, 4, pods(4), [None, low])
    assert down.desired == 4 and not down.able_to_scale
    assert "1 invalid out of 2" in down.reason
    up = hpa.decide(spec, hpa.HPAState(), 0, 4, pods(4), [None, high])
    assert up.desired == 8
    none = hpa.decide(spec, hpa.HPAState(), 0, 4, pods(4), [None, None])
    assert none.desired == 4 and not none.able_to_scale


@pytest.mark.points(3)
def test_default_scale_up_behavior_sequence() -> None:
    """Default scaleUp: max(+4 pods, +100 %) per 15 s, counted from the period's start:
    1 -> 5 -> 10 -> 20."""
    spec = hpa.HPASpec(1, 20, (QPS100M,))
    # every pod reports 2.0 (20x the target): the metric asks for far more than 20
    state = hpa.HPAState()
    current = 1
    seen = []
    for t in (0, 15, 30, 45):
        readings = [hpa.MetricReading(per_pod=per_pod([2.0] * current))]
        current = hpa.decide(spec, state, t, current, pods(current), readings).desired
        seen.append(current)
    assert seen == [5, 10, 20, 20]


@pytest.mark.points(3)
def test_docs_scale_down_policies_sequence() -> None:
    """Docs example: scaleDown Pods 4/60 s and Percent 10/60 s, selectPolicy Max (the most
    change), no stabilization: 80 -> 72 (10 % beats 4 pods), held for the period, -> 64,
    -> 57 (int(57.6)), ... below 40 the 4-pod policy wins."""
    behavior = hpa.Behavior(
        scale_up=hpa.Behavior.default().scale_up,
        scale_down=hpa.ScalingRules(0, (hpa.HPAScalingPolicy(hpa.PolicyType.PODS, 4, 60),
                                        hpa.HPAScalingPolicy(hpa.PolicyType.PERCENT, 10, 60))))
    spec = hpa.HPASpec(1, 100, (QPS100M,), behavior)
    state = hpa.HPAState()
    current = 80
    seen = {}
    for t in range(0, 60 * 12 + 1, 15):
        readings = [hpa.MetricReading(per_pod=per_pod([0.0125] * current))]  # asks for 10
        current = hpa.decide(spec, state, t, current, pods(current), readings).desired
        seen[t] = current
    assert [seen[t] for t in (0, 15, 45, 60, 120, 180)] == [72, 72, 72, 64, 57, 51]
    # 51 -> 45 -> 40 (both 4) -> 36 (int(36.0) = 36 = 40 - 4)
    assert [seen[t] for t in (240, 300, 360)] == [45, 40, 36]
    assert seen[420] == 32  # 4 pods beat 10 % of 36 (3.6)


@pytest.mark.points(3)
def test_scale_down_stabilization_window() -> None:
    """Default scaleDown window 300 s: a drop is applied only once every proposal of the
    last 300 s agrees (the t=0 proposal leaves the window strictly after t=300)."""
    spec = hpa.HPASpec(1, 20, (QPS100M,))
    state = hpa.HPAState()
    current = 10
    seen = {}
    for t in range(0, 330, 15):
        value = 0.1 if t == 0 else 0.04  # 10 asked at t=0, then 4
        readings = [hpa.MetricReading(per_pod=per_pod([value] * current))]
        current = hpa.decide(spec, state, t, current, pods(current), readings).desired
        seen[t] = current
    assert seen[15] == 10 and seen[285] == 10 and seen[300] == 4


@pytest.mark.points(2)
@pytest.mark.hidden
def test_select_policy_min_and_disabled() -> None:
    up = hpa.ScalingRules(0, (hpa.HPAScalingPolicy(hpa.PolicyType.PODS, 4, 15),
                              hpa.HPAScalingPolicy(hpa.PolicyType.PERCENT, 100, 15)),
                          hpa.SelectPolicy.MIN)
    assert hpa.scale_up_limit(10, [], [], up, 0) == 14  # min(14, 20)
    down = hpa.ScalingRules(0, (hpa.HPAScalingPolicy(hpa.PolicyType.PERCENT, 50, 60),),
                            hpa.SelectPolicy.DISABLED)
    spec = hpa.HPASpec(1, 20, (QPS100M,), hpa.Behavior(hpa.Behavior.default().scale_up, down))
    decision = hpa.decide(spec, hpa.HPAState(), 0, 10, pods(10),
                          [hpa.MetricReading(per_pod=per_pod([0.01] * 10))])
    assert decision.desired == 10 and decision.reason == "ScaleDownLimit"


@pytest.mark.points(1)
def test_min_max_bounds_and_disabled_at_zero() -> None:
    spec = hpa.HPASpec(2, 5, (QPS100M,))
    big = [hpa.MetricReading(per_pod=per_pod([1.0] * 3))]
    assert hpa.decide(spec, hpa.HPAState(), 0, 3, pods(3), big).desired == 5
    assert hpa.decide(spec, hpa.HPAState(), 0, 8, pods(8), big).desired == 5
    assert hpa.decide(spec, hpa.HPAState(), 0, 1, pods(1), big).desired == 2
    assert hpa.decide(spec, hpa.HPAState(), 0, 0, [], big).reason == "ScalingDisabled"


@pytest.mark.points(1)
def test_spec_rejects_contradictions() -> None:
    with pytest.raises(PolicyError, match="minReplicas 5 > maxReplicas 2"):
        hpa.HPASpec(5, 2, (QPS100M,))
    with pytest.raises(PolicyError, match="cannot have a Utilization target"):
        hpa.MetricSpec(hpa.MetricType.PODS, "qps", hpa.TargetType.UTILIZATION, 50)
