"""Drill results: detection time, RTO and RPO measured against the scenario's targets.

Definitions used everywhere in drkit (and in the playbooks):
* detection: from the incident (the kill, the drop) to drkit noticing it;
* RTO: from the incident to the first successful write on the recovered service;
* RPO: the time span of acknowledged writes lost: incident time minus the commit time of
  the newest acknowledged row still present (0 when nothing acknowledged was lost).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from aiinfra_shared.bench import markdown_table


@dataclass
class StepRecord:
    action: str
    seconds: float
    detail: str = ""


@dataclass
class DrillResult:
    scenario: str
    started_at: datetime
    rto_target_s: float
    rpo_target_s: float
    detection_s: float | None = None
    rto_s: float | None = None
    rpo_s: float | None = None
    rows_acknowledged: int = 0
    rows_lost: int = 0
    steps: list[StepRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def rto_met(self) -> bool | None:
        return None if self.rto_s is None else self.rto_s <= self.rto_target_s

    @property
    def rpo_met(self) -> bool | None:
        return None if self.rpo_s is None else self.rpo_s <= self.rpo_target_s

    @property
    def passed(self) -> bool:
        return self.error is None and self.rto_met is not False and self.rpo_met is not False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data.update(rto_met=self.rto_met, rpo_met=self.rpo_met, passed=self.passed)
        return data


def rpo_seconds(incident_at: datetime, acknowledged: list[tuple[int, datetime]],
                present_ids: set[int]) -> tuple[float, int]:
    """RPO and rows lost from the acknowledged writes and the ids found after recovery.

    Only writes acknowledged before the incident count: a write the client never saw
    committed was never promised.
    """
    # BEGIN SOLUTION: lost = acknowledged before the incident, absent now; RPO from newest kept
    promised = [(i, at) for i, at in acknowledged if at <= incident_at]
    lost = [(i, at) for i, at in promised if i not in present_ids]
    if not lost:
        return 0.0, 0
    kept_times = [at for i, at in promised if i in present_ids]
    since = max(kept_times) if kept_times else min(at for _, at in lost)
    return max(0.0, (incident_at - since).total_seconds()), len(lost)
    # END SOLUTION


def _fmt(value: float | None, met: bool | None) -> str:
    if value is None:
        return "-"
    mark = "" if met is None else (" ok" if met else " MISSED")
    return f"{value:.2f}{mark}"


def results_table(results: list[DrillResult]) -> str:
    """The RTO/RPO table `make run` and `drkit drill run` print (Markdown)."""
    rows = [[r.scenario, "-" if r.detection_s is None else f"{r.detection_s:.2f}",
             _fmt(r.rto_s, r.rto_met), f"{r.rto_target_s:g}", _fmt(r.rpo_s, r.rpo_met),
             f"{r.rpo_target_s:g}", f"{r.rows_lost}/{r.rows_acknowledged}",
             "pass" if r.passed else f"FAIL{': ' + r.error if r.error else ''}"]
            for r in results]
    return markdown_table(["scenario", "detection s", "RTO s", "RTO target", "RPO s",
                           "RPO target", "rows lost", "result"], rows)


def results_markdown(results: list[DrillResult]) -> str:
    lines = ["# DR drill results", "", results_table(results), ""]
    for result in results:
        lines += [f"## {result.scenario}", ""]
        lines += [f"- {s.action}: {s.seconds:.2f} s{(' - ' + s.detail) if s.detail else ''}"
                  for s in result.steps]
        lines += [f"- note: {n}" for n in result.notes]
        lines.append("")
    return "\n".join(lines)
