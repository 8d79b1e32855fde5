"""Grafana dashboards (fleet, team, node) as JSON. Every panel's PromQL is plain (no
template variables) so tests can run it against the backfilled Prometheus."""

from __future__ import annotations

from typing import Any

from gpufleet.fleet import Fleet
from gpufleet.rules import allocated_hours_expr, used_hours_expr


def panel_queries(fleet: Fleet) -> dict[str, dict[str, str]]:
    """dashboard -> panel title -> PromQL."""
    interval = fleet.scrape_interval_s
    # BEGIN SOLUTION
    return {
        "fleet": {
            "Allocated GPUs": 'count(DCGM_FI_DEV_GPU_UTIL{pod!=""})',
            "Fleet utilisation %": "avg(DCGM_FI_DEV_GPU_UTIL)",
            "GPUs by model": "count by (modelName) (DCGM_FI_DEV_GPU_UTIL)",
            "Allocated GPU-hours, 30 days": allocated_hours_expr("30d", interval),
        },
        "team": {
            "Allocated GPUs per team": 'count by (namespace) (DCGM_FI_DEV_GPU_UTIL{pod!=""})',
            "Used GPU-hours per team, 30 days": used_hours_expr("30d", interval),
            "Idle allocated GPUs per team":
                'count by (namespace) (DCGM_FI_DEV_GPU_UTIL{pod!=""} == 0)',
        },
        "node": {
            "Utilisation per node %": "avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)",
            "GPUs per node": "count by (Hostname) (DCGM_FI_DEV_GPU_UTIL)",
            "MIG instances by profile":
                'count by (GPU_I_PROFILE) (DCGM_FI_DEV_GPU_UTIL{GPU_I_PROFILE!=""})',
        },
    }
    # END SOLUTION


def dashboard(name: str, panels: dict[str, str]) -> dict[str, Any]:
    return {
        "title": f"gpufleet / {name}", "uid": f"gpufleet-{name}", "schemaVersion": 39,
        "time": {"from": "now-30d", "to": "now"}, "tags": ["gpufleet"],
        "panels": [{"id": i + 1, "type": "timeseries", "title": title,
                    "datasource": {"type": "prometheus", "uid": "prometheus"},
                    "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                    "targets": [{"refId": "A", "expr": expr}]}
                   for i, (title, expr) in enumerate(panels.items())],
    }


def dashboards(fleet: Fleet) -> dict[str, dict[str, Any]]:
    return {name: dashboard(name, panels) for name, panels in panel_queries(fleet).items()}
