"""The canary state machine and the gate verdicts, with the clock passed in."""

from __future__ import annotations

import math

import pytest

from modelop.gates import GateReport, Verdict, evaluate, judge, render_queries
from modelop.rollout import PROGRESSING, PROMOTED, ROLLED_BACK, Action, RolloutState, advance
from modelop.spec import Canary, Gates, Predictor

CANDIDATE = Predictor(uri="s3://m/2", framework="sklearn", image="img")
CANARY = Canary(predictor=CANDIDATE, steps=(10, 50), step_seconds=30,
                gates=Gates(max_error_rate=0.01), progress_deadline_seconds=600)
REV = CANDIDATE.revision


def _report(value: float | None) -> GateReport:
    """Built inside the tests (not at import) so a missing `judge` fails, not errors."""
    return GateReport((judge("errorRate", value, 0.01),))


def _step(state: RolloutState | None, ready: bool, report: GateReport | None,
          now: float) -> tuple[Action, RolloutState]:
    decision = advance(state, CANARY, REV, "green", ready, report, now)
    return decision.action, decision.state


@pytest.mark.points(5)
def test_a_healthy_canary_walks_every_step_then_is_promoted() -> None:
    PASS, FAIL, NODATA = _report(0.001), _report(0.2), _report(None)  # noqa: N806
    action, state = _step(None, False, None, now=1000)
    assert action is Action.START and (state.phase, state.step, state.weight) == \
        (PROGRESSING, 0, 10)
    assert _step(state, False, None, 1010)[0] is Action.WAIT  # pods not ready
    action, waiting = _step(state, True, NODATA, 1040)
    assert action is Action.WAIT and waiting.reason == "WaitingForMetrics"
    action, early = _step(state, True, PASS, 1020)  # gates pass, step time not over
    assert action is Action.WAIT and early.reason == "StepInProgress"
    action, state = _step(state, True, PASS, 1031)
    assert action is Action.ADVANCE and (state.step, state.weight) == (1, 50)
    assert state.step_started_at == 1031
    assert _step(state, True, PASS, 1050)[0] is Action.WAIT
    action, state = _step(state, True, PASS, 1062)
    assert action is Action.PROMOTE and (state.phase, state.weight) == (PROMOTED, 100)
    assert _step(state, True, FAIL, 1100)[0] is Action.IDLE  # finished stays finished


@pytest.mark.points(3)
def test_a_failing_gate_rolls_back_at_once_with_the_value() -> None:
    FAIL = _report(0.2)  # noqa: N806
    _, state = _step(None, True, None, now=0)
    action, state = _step(state, True, FAIL, now=5)
    assert action is Action.ROLLBACK and state.phase == ROLLED_BACK
    assert state.reason == "GateFailed"
    assert state.message == "rolled back at 10%: errorRate 0.2 > 0.01"


@pytest.mark.hidden
@pytest.mark.points(3)
def test_deadline_and_new_revisions() -> None:
    _, state = _step(None, False, None, now=0)
    action, late = _step(state, False, None, now=601)
    assert action is Action.ROLLBACK and late.reason == "ProgressDeadlineExceeded"
    assert "canary pods not ready" in late.message
    other = RolloutState(revision="older", slot="green", phase=ROLLED_BACK)
    action, fresh = _step(other, False, None, now=700)
    assert action is Action.START and fresh.revision == REV and fresh.started_at == 700
    assert RolloutState.from_status(fresh.to_status()) == fresh
    assert RolloutState.from_status({}) is None


@pytest.mark.points(2)
def test_gate_verdicts_and_queries() -> None:
    assert judge("p95", 0.3, 0.3).verdict is Verdict.PASS
    assert judge("p95", 0.31, 0.3).verdict is Verdict.FAIL
    assert judge("errorRate", math.nan, 0.01).verdict is Verdict.NO_DATA  # 0/0: no traffic
    queries = render_queries(Gates(max_p95_latency_seconds=0.5, window="5m"), "ml", "churn",
                             "abc123")
    assert list(queries) == ["p95LatencySeconds"]
    promql, threshold = queries["p95LatencySeconds"]
    assert threshold == 0.5
    assert 'revision="abc123"' in promql and "[5m]" in promql and 'namespace="ml"' in promql
    report = evaluate(render_queries(Gates(max_error_rate=0.01, max_p95_latency_seconds=1),
                                     "ml", "churn", "r"),
                      lambda q: 0.5 if "duration" in q else 0.02)
    assert report.failed and not report.passed
    assert report.summary() == "errorRate 0.02 > 0.01, p95LatencySeconds 0.5 <= 1"
