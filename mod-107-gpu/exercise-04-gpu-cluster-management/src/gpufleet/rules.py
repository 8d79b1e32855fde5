"""Prometheus rules for the fleet: GPU-hours per team (recording) and the alerts.

Series are dcgm-exporter's: `DCGM_FI_DEV_GPU_UTIL` carries `namespace`/`pod` while a GPU is
allocated to a pod, so a sample with `pod!=""` is one allocated GPU for one scrape interval.
`Durations` are the alerts' `for:`; tests render them short to see alerts fire for real.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpufleet.fleet import Fleet

ALLOCATED = 'DCGM_FI_DEV_GPU_UTIL{pod!=""}'
CRITICAL_XIDS = (48, 63, 64, 74, 79, 92, 94, 95, 119, 120)


@dataclass(frozen=True)
class Durations:
    heat: str = "5m"
    idle: str = "1h"
    window: str = "30d"


def allocated_hours_expr(window: str, interval_s: int) -> str:
    """GPU-hours allocated per team over `window`: samples x interval / 3600."""
    # BEGIN SOLUTION
    return (f"sum by (namespace) (count_over_time({ALLOCATED}[{window}])) "
            f"* {interval_s} / 3600")
    # END SOLUTION


def used_hours_expr(window: str, interval_s: int) -> str:
    """GPU-hours used per team over `window`: utilisation-weighted allocated hours."""
    # BEGIN SOLUTION
    return (f"sum by (namespace) (sum_over_time({ALLOCATED}[{window}])) "
            f"/ 100 * {interval_s} / 3600")
    # END SOLUTION


def rule_groups(fleet: Fleet, durations: Durations | None = None) -> dict[str, Any]:
    """`{"groups": [...]}` as Prometheus (and a PrometheusRule's spec) expects."""
    durations = durations or Durations()
    interval = fleet.scrape_interval_s
    # BEGIN SOLUTION
    recording: list[dict[str, Any]] = [
        {"record": "gpufleet:team_allocated_gpus", "expr": f"count by (namespace) ({ALLOCATED})"},
        {"record": "gpufleet:team_used_gpus",
         "expr": f"sum by (namespace) ({ALLOCATED}) / 100"},
        {"record": f"gpufleet:team_allocated_gpu_hours:{durations.window}",
         "expr": allocated_hours_expr(durations.window, interval)},
        {"record": f"gpufleet:team_used_gpu_hours:{durations.window}",
         "expr": used_hours_expr(durations.window, interval)},
    ]
    for team in fleet.teams:
        if team.monthly_gpu_hours is not None:
            recording.append({"record": "gpufleet:team_budget_gpu_hours",
                              "expr": f"vector({team.monthly_gpu_hours:g})",
                              "labels": {"namespace": team.namespace, "team": team.name}})
    spent = (f"gpufleet:team_allocated_gpu_hours:{durations.window} "
             f"/ on (namespace) group_left (team) gpufleet:team_budget_gpu_hours")
    critical = " or ".join(f"DCGM_FI_DEV_XID_ERRORS == {x}" for x in CRITICAL_XIDS)
    alerts: list[dict[str, Any]] = [
        {"alert": "GpuXidError", "expr": "DCGM_FI_DEV_XID_ERRORS > 0",
         "labels": {"severity": "warning"},
         "annotations": {"summary": "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} "
                                    "reported XID {{ $value }}"}},
        {"alert": "GpuCriticalXid",
         "expr": critical, "labels": {"severity": "critical"},
         "annotations": {"summary": "XID {{ $value }} on GPU {{ $labels.UUID }}: reset or "
                                    "drain the node"}},
        {"alert": "GpuTooHot", "expr": "DCGM_FI_DEV_GPU_TEMP > 85", "for": durations.heat,
         "labels": {"severity": "warning"},
         "annotations": {"summary": "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} at "
                                    "{{ $value }} C"}},
        {"alert": "GpuRowRemapFailure", "expr": "DCGM_FI_DEV_ROW_REMAP_FAILURE > 0",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "GPU {{ $labels.UUID }} failed a row remap: drain it"}},
        {"alert": "GpuAllocatedIdle", "expr": f"{ALLOCATED} == 0", "for": durations.idle,
         "labels": {"severity": "info"},
         "annotations": {"summary": "{{ $labels.namespace }}/{{ $labels.pod }} holds GPU "
                                    "{{ $labels.gpu }} without using it"}},
        {"alert": "TeamGpuBudget80", "expr": f"{spent} >= 0.8",
         "labels": {"severity": "warning"},
         "annotations": {"summary": "{{ $labels.team }} used {{ $value | humanizePercentage }}"
                                    " of its GPU-hour budget"}},
        {"alert": "TeamGpuBudgetExhausted", "expr": f"{spent} >= 1",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $labels.team }} exhausted its GPU-hour budget"}},
    ]
    # END SOLUTION
    return {"groups": [{"name": "gpufleet.recording", "interval": f"{interval}s",
                        "rules": recording},
                       {"name": "gpufleet.alerts", "rules": alerts}]}
