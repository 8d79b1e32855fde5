"""A window's results as Prometheus gauges, for the Pushgateway.

A batch job has no /metrics to scrape, so each run pushes its latest window under the
grouping key {job="driftwatch", model, version}; the Pushgateway adds `push_time_seconds`,
which the stale-job alert watches. Names are the contract with the alert rules and the
dashboard (both tested against a real Prometheus).
"""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, Gauge

from driftwatch.analysis import WindowResult

JOB = "driftwatch"
PREFIX = "driftwatch_"


def build_registry(result: WindowResult, label_coverage_matured: float | None) -> CollectorRegistry:
    """Gauges for one window; performance gauges only when there is something to report."""
    # BEGIN SOLUTION
    registry = CollectorRegistry()

    def gauge(name: str, doc: str, value: float | None, labels: dict[str, str] | None = None
              ) -> None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return
        names = sorted(labels or {})
        metric = existing.get(name) or Gauge(PREFIX + name, doc, names, registry=registry)
        existing[name] = metric
        (metric.labels(**labels) if labels else metric).set(float(value))

    existing: dict[str, Gauge] = {}
    gauge("window_rows", "Rows in the latest window.", result.rows)
    gauge("window_end_timestamp_seconds", "End of the latest window (unix seconds).",
          _unix(result.end))
    gauge("insufficient_data", "1 when the latest window had too few rows to judge.",
          0.0 if result.sufficient else 1.0)
    gauge("label_coverage", "Share of the latest window's rows with a label so far.",
          result.label_coverage)
    gauge("label_coverage_matured", "Label coverage of the latest window past its grace "
          "period.", label_coverage_matured)
    if result.sufficient:
        gauge("drifted_columns_share", "Share of feature columns that drifted.",
              result.drifted_share)
        for item in result.columns:
            labels = {"column": str(item["column"]), "method": str(item["method"])}
            gauge("column_drift_score", "Drift statistic per column.", item["score"], labels)
            gauge("column_drifted", "1 when the column drifted (after BH and floors).",
                  1.0 if item["drifted"] else 0.0, {"column": str(item["column"])})
        for column, share in result.missing_share.items():
            gauge("missing_share", "Share of missing values per column.", share,
                  {"column": column})
        if result.domain_classifier:
            gauge("domain_classifier_auc", "ROC AUC of reference-vs-window classifier.",
                  result.domain_classifier["auc"])
        if result.mmd:
            gauge("mmd_p_value", "MMD permutation test p-value.", result.mmd["p_value"])
        for name, value in (result.estimated or {}).items():
            gauge("estimated_performance", "CBPE-estimated performance.", value,
                  {"metric": name})
        for name, value in (result.realized or {}).items():
            gauge("realized_performance", "Realised performance (labelled rows).", value,
                  {"metric": name})
    for name, value in result.reference_performance.items():
        gauge("reference_performance", "Performance on the reference.", value, {"metric": name})
    return registry
    # END SOLUTION


def _unix(iso: str) -> float:
    import pandas as pd

    return float(pd.Timestamp(iso).timestamp())
