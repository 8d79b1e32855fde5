"""The rollout state machine: pure, so every decision is testable without a server.

Each interval the runner measures the checks and calls `advance(spec, state, results)`, which
returns the next state, including the weights to apply. Rules (Flagger's, plus two answers to
open Flagger requests):

- a check *fails* when its value is out of bounds, and also when the query returned no data
  or could not run: no data never counts as healthy, so a broken query holds the rollout and
  eventually rolls it back instead of promoting blind;
- any failing interval holds the weight and adds one failed check; at `threshold` failed
  checks the rollout is rolled back (canary weight 0) and stops, with the reason;
- `canary` mode steps the canary weight by `step_weight` up to `max_weight` on passing
  intervals, then promotes (100 % to the canary version);
- `ab` keeps weights at 100/0 (the header route sends matching users to the canary) and
  promotes after `iterations` passing intervals; `bluegreen` likewise, with no user traffic on
  the canary until the switch (only the load-test webhook reaches it);
- a first deployment (no primary) is analysed too, on the service's absolute SLOs
  (flagger#676): it takes all traffic, and after `iterations` passing intervals it is marked
  Succeeded, or Failed with the reason (there is nothing to roll back to);
- every check keeps its query, value, threshold and verdict in the state's history
  (flagger#1147, #1304, #1815: "why did my canary fail?").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

from meshobs.delivery.spec import CanarySpec, MetricCheck

Verdict = Literal["pass", "fail", "no-data", "error"]
Phase = Literal["Initializing", "Progressing", "Succeeded", "Failed"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    query: str
    value: float | None
    threshold: str  # e.g. ">= 99.0", "<= 500.0", "p >= 0.01"
    verdict: Verdict
    detail: str = ""
    min: float | None = None  # the bounds behind `threshold`, for metrics and dashboards
    max: float | None = None

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def describe(self) -> str:
        value = "no data" if self.value is None else f"{self.value:.4g}"
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.name}: {value} vs {self.threshold} -> {self.verdict}{extra}"


def threshold_text(check: MetricCheck) -> str:
    parts = []
    if check.min is not None:
        parts.append(f">= {check.min:g}")
    if check.max is not None:
        parts.append(f"<= {check.max:g}")
    return " and ".join(parts)


def evaluate(check: MetricCheck, query: str, value: float | None,
             error: str | None = None) -> CheckResult:
    """Judge one measured value against the check's bounds."""
    # BEGIN SOLUTION
    threshold = threshold_text(check)
    if error is not None:
        return CheckResult(check.name, query, None, threshold, "error", error,
                           check.min, check.max)
    if value is None or math.isnan(value):
        return CheckResult(check.name, query, None, threshold, "no-data",
                           "the query returned no series", check.min, check.max)
    if check.min is not None and value < check.min:
        return CheckResult(check.name, query, value, threshold, "fail",
                           f"below the minimum {check.min:g}", check.min, check.max)
    if check.max is not None and value > check.max:
        return CheckResult(check.name, query, value, threshold, "fail",
                           f"above the maximum {check.max:g}", check.min, check.max)
    return CheckResult(check.name, query, value, threshold, "pass", "", check.min, check.max)
    # END SOLUTION


@dataclass(frozen=True)
class StepRecord:
    iteration: int
    canary_weight: int
    results: tuple[CheckResult, ...]
    action: str  # "advance", "hold", "promote", "rollback", "succeed", "fail"
    message: str


@dataclass(frozen=True)
class RolloutState:
    phase: Phase = "Initializing"
    canary_weight: int = 0
    iteration: int = 0
    passed_iterations: int = 0
    failed_checks: int = 0
    reason: str = ""
    history: tuple[StepRecord, ...] = field(default_factory=tuple)

    @property
    def done(self) -> bool:
        return self.phase in ("Succeeded", "Failed")


def initial_state(spec: CanarySpec) -> RolloutState:
    """Where a rollout starts: canary at 0 % (100 % for a first deployment)."""
    weight = 100 if spec.first_deployment else 0
    if spec.mode == "canary" and not spec.first_deployment:
        weight = spec.step_weight
    return RolloutState(phase="Progressing", canary_weight=weight)


def weights_for(spec: CanarySpec, state: RolloutState) -> dict[str, int]:
    """The route weights that realise `state` (primary gets the rest)."""
    if spec.primary is None:
        return {spec.canary: 100}
    weight = state.canary_weight
    return {spec.primary: 100 - weight, spec.canary: weight}


def advance(spec: CanarySpec, state: RolloutState, results: list[CheckResult]
            ) -> RolloutState:
    """One analysis interval: decide hold / advance / promote / roll back."""
    # BEGIN SOLUTION
    if state.done:
        return state
    iteration = state.iteration + 1
    failing = [r for r in results if not r.passed]
    if failing:
        failed = state.failed_checks + 1
        why = "; ".join(r.describe() for r in failing)
        if failed >= spec.threshold:
            phase: Phase = "Failed"
            if spec.first_deployment:
                action, weight = "fail", state.canary_weight
                reason = (f"first deployment failed {failed} checks (threshold "
                          f"{spec.threshold}): {why}; no previous version to roll back to")
            else:
                action, weight = "rollback", 0
                reason = (f"rolled back after {failed} failed checks (threshold "
                          f"{spec.threshold}): {why}")
            record = StepRecord(iteration, weight, tuple(results), action, reason)
            return replace(state, phase=phase, canary_weight=weight, iteration=iteration,
                           failed_checks=failed, reason=reason,
                           history=(*state.history, record))
        message = f"holding at {state.canary_weight}% ({failed}/{spec.threshold} failed): {why}"
        record = StepRecord(iteration, state.canary_weight, tuple(results), "hold", message)
        return replace(state, iteration=iteration, failed_checks=failed,
                       history=(*state.history, record))
    passed = state.passed_iterations + 1
    if spec.mode == "canary" and not spec.first_deployment:
        if state.canary_weight < spec.max_weight:
            weight = min(state.canary_weight + spec.step_weight, spec.max_weight)
            record = StepRecord(iteration, weight, tuple(results), "advance",
                                f"checks passed: canary weight {state.canary_weight}% -> "
                                f"{weight}%")
            return replace(state, canary_weight=weight, iteration=iteration,
                           passed_iterations=passed, history=(*state.history, record))
        return _finish(spec, state, results, iteration, passed)
    if passed >= spec.iterations:
        return _finish(spec, state, results, iteration, passed)
    record = StepRecord(iteration, state.canary_weight, tuple(results), "hold",
                        f"checks passed ({passed}/{spec.iterations} iterations)")
    return replace(state, iteration=iteration, passed_iterations=passed,
                   history=(*state.history, record))
    # END SOLUTION


def _finish(spec: CanarySpec, state: RolloutState, results: list[CheckResult],
            iteration: int, passed: int) -> RolloutState:
    if spec.first_deployment:
        reason = f"first deployment {spec.canary} met its SLOs for {passed} intervals"
        action = "succeed"
    else:
        reason = f"promoted {spec.canary}: all checks passed for {passed} intervals"
        action = "promote"
    record = StepRecord(iteration, 100, tuple(results), action, reason)
    return replace(state, phase="Succeeded", canary_weight=100, iteration=iteration,
                   passed_iterations=passed, reason=reason, history=(*state.history, record))


def abort(state: RolloutState, reason: str, weight: int) -> RolloutState:
    """Stop a rollout for an infrastructure reason (router unreachable...), saying why."""
    record = StepRecord(state.iteration, weight, (), "rollback", reason)
    return replace(state, phase="Failed", canary_weight=weight, reason=reason,
                   history=(*state.history, record))
