"""The canary rollout as a state machine: pure, clock passed in, one step per call.

State lives in `status.rollout` of the MLModel (so a restarted or newly elected operator
continues where the last one stopped). Each reconcile calls `advance()` with what it observed
(is the canary Deployment ready? what did the Prometheus gates say?) and acts on the
decision: scale the canary, shift weight, promote (the stable name moves to the canary pods)
or roll back (the canary pods go, the reason stays in status). kserve#3085 asks for exactly
this: promotion when checks pass, instead of by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from modelop.gates import GateReport
from modelop.spec import Canary

PROGRESSING = "Progressing"
PROMOTED = "Promoted"
ROLLED_BACK = "RolledBack"


class Action(StrEnum):
    START = "start"  # a new candidate: first step
    WAIT = "wait"  # nothing to do yet (not ready, step time not over, no metrics yet)
    ADVANCE = "advance"  # next step, more weight
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    IDLE = "idle"  # the candidate already finished (promoted or rolled back)


@dataclass(frozen=True)
class RolloutState:
    revision: str
    slot: str
    phase: str = PROGRESSING
    step: int = 0
    weight: int = 0
    started_at: float = 0.0
    step_started_at: float = 0.0
    reason: str = ""
    message: str = ""

    def to_status(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_status(cls, raw: Mapping[str, Any] | None) -> RolloutState | None:
        if not raw or not raw.get("revision") or not raw.get("slot"):
            return None
        fields = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**fields)

    @property
    def finished(self) -> bool:
        return self.phase in (PROMOTED, ROLLED_BACK)


@dataclass(frozen=True)
class Decision:
    action: Action
    state: RolloutState


def advance(state: RolloutState | None, canary: Canary, revision: str, slot: str,
            canary_ready: bool, report: GateReport | None, now: float) -> Decision:
    """The next rollout decision.

    - a revision the state does not know starts at step 0 with the first step's weight;
    - a finished rollout of this revision stays finished (IDLE);
    - a failed gate rolls back at once; a deadline passed without finishing rolls back;
    - a ready canary whose gates pass and whose step time is over advances, and after the
      last step is promoted; anything else waits.
    """
    # BEGIN SOLUTION: START, IDLE, ROLLBACK, WAIT, ADVANCE or PROMOTE (see docstring)
    if state is None or state.revision != revision:
        first = RolloutState(revision=revision, slot=slot, phase=PROGRESSING, step=0,
                             weight=canary.steps[0], started_at=now, step_started_at=now,
                             reason="Started",
                             message=f"canary {revision} at {canary.steps[0]}%")
        return Decision(Action.START, first)
    if state.finished:
        return Decision(Action.IDLE, state)
    if report is not None and report.failed:
        return Decision(Action.ROLLBACK, replace(
            state, phase=ROLLED_BACK, weight=0, reason="GateFailed",
            message=f"rolled back at {state.weight}%: {report.summary()}"))
    if now - state.started_at > canary.progress_deadline_seconds:
        why = "canary pods not ready" if not canary_ready else "gates had no data"
        return Decision(Action.ROLLBACK, replace(
            state, phase=ROLLED_BACK, weight=0, reason="ProgressDeadlineExceeded",
            message=f"rolled back at {state.weight}% after "
                    f"{canary.progress_deadline_seconds}s: {why}"))
    if not canary_ready:
        return Decision(Action.WAIT, replace(state, reason="WaitingForCanaryPods",
                                             message=f"canary at {state.weight}%: "
                                                     "waiting for ready pods"))
    if report is None or not report.passed:
        return Decision(Action.WAIT, replace(state, reason="WaitingForMetrics",
                                             message=f"canary at {state.weight}%: "
                                                     "gates have no data yet"))
    if now - state.step_started_at < canary.step_seconds:
        return Decision(Action.WAIT, replace(state, reason="StepInProgress",
                                             message=f"canary at {state.weight}%: "
                                                     f"{report.summary()}"))
    if state.step + 1 < len(canary.steps):
        step = state.step + 1
        return Decision(Action.ADVANCE, replace(
            state, step=step, weight=canary.steps[step], step_started_at=now,
            reason="StepAdvanced", message=f"canary at {canary.steps[step]}%: "
                                           f"{report.summary()}"))
    return Decision(Action.PROMOTE, replace(
        state, phase=PROMOTED, weight=100, step_started_at=now, reason="Promoted",
        message=f"promoted {revision} after {len(canary.steps)} step(s): {report.summary()}"))
    # END SOLUTION
