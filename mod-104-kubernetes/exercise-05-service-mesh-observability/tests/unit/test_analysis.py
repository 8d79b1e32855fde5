"""The rollout state machine (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from meshobs.delivery import analysis
from meshobs.delivery.analysis import CheckResult, RolloutState
from meshobs.delivery.spec import CanarySpec, MetricCheck

CHECK = MetricCheck(name="request-success-rate", template="request-success-rate", min=99)
LATENCY = MetricCheck(name="p99", template="request-duration-p99", max=500)


def spec(**fields: Any) -> CanarySpec:
    return CanarySpec.model_validate({"service": "model", "primary": "v1", "canary": "v2",
                                      "step_weight": 20, "max_weight": 60, "threshold": 2,
                                      **fields})


def ok() -> list[CheckResult]:
    return [analysis.evaluate(CHECK, "q", 100.0)]


def bad() -> list[CheckResult]:
    return [analysis.evaluate(CHECK, "q", 80.0)]


def drive(s: CanarySpec, rounds: list[list[CheckResult]]) -> RolloutState:
    state = analysis.initial_state(s)
    for results in rounds:
        state = analysis.advance(s, state, results)
    return state


@pytest.mark.points(2)
def test_evaluate_records_value_threshold_and_verdict() -> None:
    passed = analysis.evaluate(CHECK, "sum(x)", 99.5)
    assert (passed.verdict, passed.value, passed.threshold, passed.query) == (
        "pass", 99.5, ">= 99", "sum(x)")
    failed = analysis.evaluate(LATENCY, "q", 730.0)
    assert failed.verdict == "fail" and "above the maximum 500" in failed.detail
    assert analysis.evaluate(CHECK, "q", None).verdict == "no-data"
    assert analysis.evaluate(CHECK, "q", float("nan")).verdict == "no-data"
    assert analysis.evaluate(CHECK, "q", 5.0, error="Prometheus down").verdict == "error"
    both = MetricCheck(name="b", query="q", min=1, max=2)
    assert analysis.threshold_text(both) == ">= 1 and <= 2"
    assert analysis.evaluate(both, "q", 2.0).passed


@pytest.mark.points(3)
def test_canary_steps_up_to_max_weight_then_promotes() -> None:
    s = spec()
    state = analysis.initial_state(s)
    assert state.canary_weight == 20
    assert analysis.weights_for(s, state) == {"v1": 80, "v2": 20}
    state = drive(s, [ok(), ok(), ok()])
    assert [h.canary_weight for h in state.history] == [40, 60, 100]
    assert [h.action for h in state.history] == ["advance", "advance", "promote"]
    assert state.phase == "Succeeded"
    assert analysis.weights_for(s, state) == {"v1": 0, "v2": 100}


@pytest.mark.points(3)
def test_failures_hold_then_roll_back_at_the_threshold() -> None:
    s = spec(threshold=3)
    state = drive(s, [ok(), bad(), bad()])
    assert state.phase == "Progressing" and state.canary_weight == 40
    assert [h.action for h in state.history] == ["advance", "hold", "hold"]
    state = analysis.advance(s, state, bad())
    assert state.phase == "Failed" and state.canary_weight == 0
    assert state.failed_checks == 3
    assert state.reason.startswith("rolled back after 3 failed checks (threshold 3)")
    assert "request-success-rate: 80 vs >= 99 -> fail" in state.reason
    assert analysis.advance(s, state, ok()) is state  # finished rollouts stay finished


@pytest.mark.points(3)
def test_no_data_never_promotes() -> None:
    s = spec(threshold=2)
    nothing = [analysis.evaluate(CHECK, "q", None)]
    state = drive(s, [nothing, nothing])
    assert state.phase == "Failed" and state.canary_weight == 0
    assert [h.action for h in state.history] == ["hold", "rollback"]
    assert "no data" in state.reason
    # one passing check among no-data ones is still a failing interval
    mixed = [analysis.evaluate(LATENCY, "q", 10.0), analysis.evaluate(CHECK, "q", None)]
    assert analysis.advance(s, analysis.initial_state(s), mixed).history[-1].action == "hold"


@pytest.mark.points(2)
def test_ab_and_blue_green_keep_users_on_the_primary_until_promotion() -> None:
    for mode in ("ab", "bluegreen"):
        extra = {"match": [{"header": "x-canary", "exact": "always"}]} if mode == "ab" else {}
        s = spec(mode=mode, iterations=3, **extra)
        state = analysis.initial_state(s)
        assert analysis.weights_for(s, state) == {"v1": 100, "v2": 0}
        state = drive(s, [ok(), ok()])
        assert state.canary_weight == 0 and state.passed_iterations == 2
        state = analysis.advance(s, state, ok())
        assert state.phase == "Succeeded" and state.canary_weight == 100


@pytest.mark.points(3)
def test_first_deployment_is_analysed_against_absolute_slos() -> None:
    """flagger#676: no primary, the new version takes all traffic and must meet its SLOs."""
    s = spec(primary=None, iterations=2)
    state = analysis.initial_state(s)
    assert analysis.weights_for(s, state) == {"v2": 100}
    good = drive(s, [ok(), ok()])
    assert good.phase == "Succeeded" and good.history[-1].action == "succeed"
    failed = drive(s, [bad(), bad()])
    assert failed.phase == "Failed" and failed.history[-1].action == "fail"
    assert "no previous version to roll back to" in failed.reason
    assert analysis.weights_for(s, failed) == {"v2": 100}


@pytest.mark.points(1)
@pytest.mark.hidden
def test_step_weight_never_overshoots_max_weight() -> None:
    s = spec(step_weight=25, max_weight=60)
    state = drive(s, [ok(), ok(), ok()])
    assert [h.canary_weight for h in state.history] == [50, 60, 100]


@pytest.mark.points(1)
@pytest.mark.hidden
def test_canary_spec_rejects_inconsistent_settings() -> None:
    with pytest.raises(ValueError, match="step_weight 70 exceeds max_weight 60"):
        spec(step_weight=70)
    with pytest.raises(ValueError, match="mode ab needs at least one header"):
        spec(mode="ab")
    with pytest.raises(ValueError, match="exactly one of template or query"):
        MetricCheck(name="x", min=1)
    with pytest.raises(ValueError, match="give min or max"):
        MetricCheck(name="x", query="up")
