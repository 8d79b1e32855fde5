"""The Grafana dashboard, as code (grafana-foundation-sdk, Grafana 11.x build).

Every panel's PromQL is a contract with `metrics.py`: a test runs each one against a real
Prometheus fed by a real push and requires data back.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")

PANELS: list[tuple[str, str, str, str]] = [
    # (kind, title, expr, legend)
    ("stat", "Drifted feature share", 'max by (model) (driftwatch_drifted_columns_share)',
     "{{model}}"),
    ("timeseries", "Drift score per column", "driftwatch_column_drift_score",
     "{{column}} ({{method}})"),
    ("timeseries", "Estimated vs realised accuracy",
     'driftwatch_estimated_performance{metric="accuracy"} or '
     'driftwatch_realized_performance{metric="accuracy"}', "{{__name__}}"),
    ("timeseries", "Accuracy gap to reference",
     'driftwatch_reference_performance{metric="accuracy"} - on(job, model, version) '
     'driftwatch_estimated_performance{metric="accuracy"}', "{{model}} estimated gap"),
    ("stat", "Label coverage (matured window)", "driftwatch_label_coverage_matured",
     "{{model}}"),
    ("timeseries", "Domain classifier AUC", "driftwatch_domain_classifier_auc", "{{model}}"),
    ("timeseries", "MMD p-value", "driftwatch_mmd_p_value", "{{model}}"),
    ("timeseries", "Missing values per column", "driftwatch_missing_share", "{{column}}"),
    ("stat", "Rows in latest window", "driftwatch_window_rows", "{{model}}"),
    ("stat", "Seconds since last push", 'time() - push_time_seconds{job="driftwatch"}',
     "{{model}}"),
]


def build() -> dict[str, Any]:
    """The dashboard as a JSON-able dict."""
    board = (dashboard.Dashboard("driftwatch: drift and model performance")
             .uid("driftwatch").tags(["driftwatch", "ml-monitoring"]).refresh("1m")
             .time("now-7d", "now")
             .with_variable(dashboard.DatasourceVariable("datasource").type("prometheus")))
    for index, (kind, title, expr, legend) in enumerate(PANELS):
        query = (prometheus.Dataquery().expr(expr).legend_format(legend)
                 .ref_id(chr(ord("A") + index % 26)))
        panel: Any = stat.Panel() if kind == "stat" else timeseries.Panel()
        board = board.with_panel(panel.title(title).datasource(DATASOURCE).with_target(query)
                                 .height(8).span(12 if kind == "timeseries" else 6))
    data: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    return data


def panel_queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) for every target of every panel."""
    return [(panel["title"], target["expr"]) for panel in board.get("panels", [])
            for target in panel.get("targets", [])]
