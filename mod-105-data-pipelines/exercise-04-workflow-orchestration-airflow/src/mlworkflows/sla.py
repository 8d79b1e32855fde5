"""SLA compliance from DAG-run and task durations (Airflow 3 has no SLA feature any more).

A run meets its SLA when it finished within the target measured from when it was queued
(queue wait counts: the user waits for it too). A run still going past its target is already
a miss; one still going within it is pending and left out of the ratio.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np


@dataclass
class DagSla:
    dag_id: str
    target_s: float
    runs: int
    finished: int
    met: int
    missed: int
    pending: int
    compliance_pct: float | None
    p50_s: float | None
    p95_s: float | None
    max_s: float | None
    slowest_task: str | None
    slowest_task_mean_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def run_duration(run: dict[str, Any], now: datetime) -> tuple[float | None, bool]:
    """(seconds from queued/start to end or now, finished?)."""
    began = _parse(run.get("queued_at")) or _parse(run.get("start_date"))
    if began is None:
        return None, False
    ended = _parse(run.get("end_date"))
    finished = ended is not None and run.get("state") in {"success", "failed"}
    return ((ended if finished and ended else now) - began).total_seconds(), finished


def compute_sla(runs: list[dict[str, Any]], task_instances: list[dict[str, Any]],
                target_for: Callable[[str], float], now: datetime) -> list[DagSla]:
    # BEGIN SOLUTION: per DAG: met, missed, pending from queued_at, percentiles, slowest task
    by_dag: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        by_dag[run["dag_id"]].append(run)
    task_durations: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for ti in task_instances:
        if ti.get("duration") is not None:
            task_durations[ti["dag_id"]][ti["task_id"]].append(float(ti["duration"]))

    report: list[DagSla] = []
    for dag_id in sorted(by_dag):
        target = target_for(dag_id)
        met = missed = pending = 0
        durations: list[float] = []
        for run in by_dag[dag_id]:
            seconds, finished = run_duration(run, now)
            if seconds is None:
                pending += 1
                continue
            if finished:
                durations.append(seconds)
                if seconds <= target and run.get("state") == "success":
                    met += 1
                else:
                    missed += 1
            elif seconds > target:
                missed += 1
            else:
                pending += 1
        judged = met + missed
        tasks = task_durations.get(dag_id, {})
        slowest = max(tasks, key=lambda t: float(np.mean(tasks[t])), default=None)
        report.append(DagSla(
            dag_id=dag_id, target_s=target, runs=len(by_dag[dag_id]), finished=len(durations),
            met=met, missed=missed, pending=pending,
            compliance_pct=round(100.0 * met / judged, 1) if judged else None,
            p50_s=round(float(np.percentile(durations, 50)), 2) if durations else None,
            p95_s=round(float(np.percentile(durations, 95)), 2) if durations else None,
            max_s=round(max(durations), 2) if durations else None,
            slowest_task=slowest,
            slowest_task_mean_s=round(float(np.mean(tasks[slowest])), 2) if slowest else None,
        ))
    return report
    # END SOLUTION
