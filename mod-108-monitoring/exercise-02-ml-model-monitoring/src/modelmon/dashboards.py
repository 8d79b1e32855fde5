"""Grafana dashboards as code, plus the provisioning files that load them.

One overview dashboard, templated on `model` and `version` (multi-select, so versions can be
compared side by side): latency, throughput, errors, prediction and confidence distributions,
drift per feature, data quality and accuracy, and business KPIs from the delayed outcomes.
Grafana cannot run here, so tests validate the JSON structurally and run every query against
a real Prometheus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DATASOURCE_UID = "modelmon-prometheus"
DASHBOARD_UID = "modelmon-overview"
SEL = 'model=~"$model", version=~"$version"'


@dataclass(frozen=True)
class Panel:
    title: str
    exprs: tuple[tuple[str, str], ...]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    thresholds: tuple[tuple[float, str], ...] = ()


PANELS: tuple[Panel | str, ...] = (
    "Traffic and latency",
    Panel("Throughput (req/s)",
          ((f"sum by (model, version, outcome) (rate(modelmon_requests_total{{{SEL}}}[5m]))",
            "{{model}} {{version}} {{outcome}}"),), unit="reqps"),
    Panel("Latency p50 / p99",
          ((f"histogram_quantile(0.5, sum by (le, model, version) "
            f"(rate(modelmon_request_latency_seconds_bucket{{{SEL}}}[5m])))",
            "p50 {{model}} {{version}}"),
           (f"histogram_quantile(0.99, sum by (le, model, version) "
            f"(rate(modelmon_request_latency_seconds_bucket{{{SEL}}}[5m])))",
            "p99 {{model}} {{version}}")), unit="s", thresholds=((0.5, "red"),)),
    Panel("Error ratio",
          ((f"sum by (model, version) (rate(modelmon_requests_total{{{SEL}, "
            f"outcome=\"server_error\"}}[5m])) / sum by (model, version) "
            f"(rate(modelmon_requests_total{{{SEL}}}[5m]))", "{{model}} {{version}}"),),
          unit="percentunit", thresholds=((0.05, "red"),)),
    Panel("Predicted class share",
          ((f"sum by (model, version, class) (rate(modelmon_predictions_total{{{SEL}}}[5m]))"
            f" / ignoring(class) group_left sum by (model, version) "
            f"(rate(modelmon_predictions_total{{{SEL}}}[5m]))",
            "class {{class}} {{model}} {{version}}"),), unit="percentunit"),
    "Model quality",
    Panel("Accuracy vs baseline",
          ((f"modelmon_model_accuracy{{{SEL}}}", "accuracy {{model}} {{version}}"),
           (f"modelmon_model_baseline{{{SEL}, metric=\"accuracy\"}}",
            "baseline {{model}} {{version}}")), unit="percentunit"),
    Panel("F1 and AUC",
          ((f"modelmon_model_f1{{{SEL}}}", "F1 {{model}} {{version}}"),
           (f"modelmon_model_auc{{{SEL}}}", "AUC {{model}} {{version}}")), unit="percentunit"),
    Panel("Confidence p50",
          ((f"histogram_quantile(0.5, sum by (le, model, version) "
            f"(rate(modelmon_prediction_confidence_bucket{{{SEL}}}[5m])))",
            "{{model}} {{version}}"),), unit="percentunit"),
    Panel("Labelled predictions in window",
          ((f"modelmon_window_labelled_predictions{{{SEL}}}", "{{model}} {{version}}"),)),
    "Drift and data quality",
    Panel("Feature drift (PSI)",
          ((f"modelmon_feature_psi{{{SEL}}}", "{{feature}} {{model}} {{version}}"),),
          thresholds=((0.1, "orange"), (0.2, "red"))),
    Panel("Feature drift (KS statistic)",
          ((f"modelmon_feature_ks_statistic{{{SEL}}}", "{{feature}} {{model}} {{version}}"),)),
    Panel("Prediction drift (PSI)",
          ((f"modelmon_prediction_psi{{{SEL}}}", "{{model}} {{version}}"),),
          thresholds=((0.2, "red"),)),
    Panel("Null / out-of-range rate",
          ((f"modelmon_feature_null_rate{{{SEL}}}", "null {{feature}}"),
           (f"modelmon_feature_out_of_range_rate{{{SEL}}}", "out of range {{feature}}")),
          unit="percentunit", thresholds=((0.05, "red"),)),
    "Business KPIs",
    Panel("Value per prediction (from delayed outcomes)",
          ((f"modelmon_business_value_per_prediction{{{SEL}}}", "{{model}} {{version}}"),
           (f"modelmon:business_value_per_prediction:vs_offset{{{SEL}}}",
            "vs earlier {{model}} {{version}}"))),
    Panel("Positive outcome rate (conversion / churn)",
          ((f"modelmon_business_outcome_rate{{{SEL}}}", "{{model}} {{version}}"),),
          unit="percentunit"),
)


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": color, "value": value} for value, color in panel.thresholds]
    return {
        "id": panel_id, "type": panel.kind, "title": panel.title,
        "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "fieldConfig": {"defaults": {"unit": panel.unit,
                                     "thresholds": {"mode": "absolute", "steps": steps}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend,
             "datasource": {"type": "prometheus", "uid": DATASOURCE_UID}}
            for i, (expr, legend) in enumerate(panel.exprs)
        ],
    }


def _variable(name: str, query: str) -> dict[str, Any]:
    return {"name": name, "label": name, "type": "query", "multi": True, "includeAll": True,
            "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
            "query": {"query": query, "refId": f"var-{name}"}, "refresh": 2,
            "current": {"text": "All", "value": "$__all"}}


def overview_dashboard() -> dict[str, Any]:
    """The dashboard JSON (Grafana schema 39), laid out on the 24-column grid."""
    # BEGIN SOLUTION: lay PANELS out on the 24-column grid; model and version variables
    panels: list[dict[str, Any]] = []
    x = y = 0
    row_height = 0
    for item in PANELS:
        panel_id = len(panels) + 1
        if isinstance(item, str):
            if x:
                y += row_height
            panels.append({"id": panel_id, "type": "row", "title": item, "collapsed": False,
                           "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})
            x, y, row_height = 0, y + 1, 0
            continue
        if x + item.width > 24:
            x, y = 0, y + row_height
            row_height = 0
        panels.append(_panel_json(item, panel_id, x, y))
        x += item.width
        row_height = max(row_height, item.height)
    return {
        "uid": DASHBOARD_UID, "title": "Model monitoring overview",
        "tags": ["modelmon", "ml"], "timezone": "browser", "schemaVersion": 39, "version": 1,
        "editable": True, "refresh": "30s", "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [
            _variable("model", "label_values(modelmon_requests_total, model)"),
            _variable("version", 'label_values(modelmon_requests_total{model=~"$model"}, '
                                 "version)"),
        ]},
        "annotations": {"list": [{
            "name": "Alerts", "enable": True, "iconColor": "red",
            "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
            "expr": 'ALERTS{alertstate="firing", model=~"$model"}',
        }]},
        "panels": panels,
    }
    # END SOLUTION


def datasource_provisioning(prometheus_url: str) -> dict[str, Any]:
    return {"apiVersion": 1, "datasources": [{
        "name": "Prometheus", "type": "prometheus", "uid": DATASOURCE_UID, "access": "proxy",
        "url": prometheus_url, "isDefault": True, "jsonData": {"timeInterval": "15s"},
    }]}


def dashboard_provisioning(path: str = "/var/lib/grafana/dashboards/modelmon") -> dict[str, Any]:
    return {"apiVersion": 1, "providers": [{
        "name": "modelmon", "folder": "Model monitoring", "type": "file",
        "disableDeletion": False, "allowUiUpdates": False,
        "options": {"path": path, "foldersFromFilesStructure": False},
    }]}
