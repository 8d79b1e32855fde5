"""Monitoring as code: recording and alert rules for the autoscaling loop, and a Grafana
dashboard. `autoscale render-monitoring --out deploy` writes them; promtool tests them.

Alerts:
* AutoscalerAtMaxReplicas: an HPA has sat at maxReplicas for 15 min: it cannot add capacity,
  so the next spike is an outage (raise maxReplicas or the node-group limits).
* ForecastErrorHigh: the forecaster's answer 5 min ago was more than 30 % off the rate now,
  for 30 min: predictive scaling is working from a wrong model.
* SLOErrorBudgetBurn: the 99.9 % availability SLO burns its budget 14.4x too fast over both
  1 h and 5 min (the multiwindow page of the SRE workbook).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

SLO_TARGET = 0.999
FAST_BURN = 14.4


@dataclass(frozen=True)
class RuleParams:
    at_max_for: str = "15m"
    forecast_error: float = 0.3
    forecast_for: str = "30m"
    forecast_offset: str = "5m"
    burn_for: str = "2m"


def recording_rules() -> dict[str, Any]:
    by = "namespace, deployment"
    return {"groups": [{"name": "autoscale.recording", "rules": [
        {"record": "deployment:http_requests:rate5m",
         "expr": f"sum by ({by}) (rate(http_requests_total[5m]))"},
        {"record": "deployment:http_request_errors:ratio_rate5m",
         "expr": f'sum by ({by}) (rate(http_requests_total{{code=~"5.."}}[5m])) / '
                 f"sum by ({by}) (rate(http_requests_total[5m]))"},
        {"record": "deployment:http_request_errors:ratio_rate1h",
         "expr": f'sum by ({by}) (rate(http_requests_total{{code=~"5.."}}[1h])) / '
                 f"sum by ({by}) (rate(http_requests_total[1h]))"},
        {"record": "deployment:forecast_requests:max",
         "expr": f"max by ({by}) (autoscale_forecast_requests_per_second)"},
    ]}]}


def alerting_rules(params: RuleParams | None = None) -> dict[str, Any]:
    # BEGIN SOLUTION
    p = params or RuleParams()
    budget = round(FAST_BURN * (1 - SLO_TARGET), 6)
    return {"groups": [{"name": "autoscale.alerts", "rules": [
        {"alert": "AutoscalerAtMaxReplicas",
         "expr": "kube_horizontalpodautoscaler_status_current_replicas >= on (namespace, "
                 "horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_max_replicas",
         "for": p.at_max_for,
         "labels": {"severity": "warning"},
         "annotations": {"summary": "HPA {{ $labels.namespace }}/"
                                    "{{ $labels.horizontalpodautoscaler }} is at maxReplicas",
                         "runbook": "docs/runbooks.md#autoscaleratmaxreplicas"}},
        {"alert": "ForecastErrorHigh",
         "expr": f"abs(deployment:forecast_requests:max offset {p.forecast_offset} - "
                 "deployment:http_requests:rate5m) / clamp_min(deployment:http_requests:rate5m, "
                 f"1) > {p.forecast_error}",
         "for": p.forecast_for,
         "labels": {"severity": "warning"},
         "annotations": {"summary": "forecast for {{ $labels.deployment }} is "
                                    "{{ $value | humanizePercentage }} off",
                         "runbook": "docs/runbooks.md#forecasterrorhigh"}},
        {"alert": "SLOErrorBudgetBurn",
         "expr": f"deployment:http_request_errors:ratio_rate1h > {budget} and "
                 f"deployment:http_request_errors:ratio_rate5m > {budget}",
         "for": p.burn_for,
         "labels": {"severity": "page"},
         "annotations": {"summary": "{{ $labels.deployment }} burns its error budget "
                                    f"{FAST_BURN}x too fast",
                         "runbook": "docs/runbooks.md#sloerrorbudgetburn"}},
    ]}]}
    # END SOLUTION


PANELS: list[tuple[str, str, str]] = [
    ("Request rate", "reqps",
     'sum by (deployment) (rate(http_requests_total{namespace="$namespace"}[5m]))'),
    ("Replicas (spec)", "short", 'max by (deployment) (kube_deployment_spec_replicas'
                                 '{namespace="$namespace"})'),
    ("HPA current vs max replicas", "short",
     'max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas'
     '{namespace="$namespace"}) / max by (horizontalpodautoscaler) '
     '(kube_horizontalpodautoscaler_spec_max_replicas{namespace="$namespace"})'),
    ("CPU per pod (cores)", "short",
     'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="$namespace",'
     'container!=""}[5m]))'),
    ("CPU used / requested", "percentunit",
     'sum(rate(container_cpu_usage_seconds_total{namespace="$namespace",container!=""}[5m])) '
     '/ sum(kube_pod_container_resource_requests{namespace="$namespace",resource="cpu"})'),
    ("Memory working set per pod", "bytes",
     'max by (pod) (container_memory_working_set_bytes{namespace="$namespace",'
     'container!=""})'),
    ("Forecast vs actual rate", "reqps",
     'max by (deployment) (autoscale_forecast_requests_per_second{namespace="$namespace"}) '
     '/ sum by (deployment) (rate(http_requests_total{namespace="$namespace"}[5m]))'),
    ("Error ratio (5m)", "percentunit",
     'sum(rate(http_requests_total{namespace="$namespace",code=~"5.."}[5m])) / '
     'sum(rate(http_requests_total{namespace="$namespace"}[5m]))'),
]


def dashboard() -> dict[str, Any]:
    """Grafana dashboard JSON (schemaVersion 39), one timeseries panel per query."""
    panels = []
    for index, (title, unit, expr) in enumerate(PANELS):
        panels.append({
            "id": index + 1, "type": "timeseries", "title": title,
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": "A", "expr": expr, "legendFormat": "__auto",
                         "datasource": {"type": "prometheus", "uid": "${datasource}"}}],
        })
    return {
        "uid": "autoscale-overview", "title": "Autoscaling overview", "schemaVersion": 39,
        "version": 1, "editable": True, "time": {"from": "now-24h", "to": "now"},
        "refresh": "1m", "tags": ["autoscale", "kubernetes"],
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus"},
            {"name": "namespace", "type": "query",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": "label_values(kube_deployment_spec_replicas, namespace)",
             "refresh": 2},
        ]},
        "panels": panels,
    }


def render_files(params: RuleParams | None = None) -> dict[str, str]:
    return {
        "prometheus/recording_rules.yml": yaml.safe_dump(recording_rules(), sort_keys=False),
        "prometheus/alerting_rules.yml": yaml.safe_dump(alerting_rules(params),
                                                        sort_keys=False),
        "grafana/autoscale-overview.json": json.dumps(dashboard(), indent=2) + "\n",
    }
