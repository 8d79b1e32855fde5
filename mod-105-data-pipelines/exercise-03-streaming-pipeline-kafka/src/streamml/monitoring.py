"""Monitoring as code: Prometheus alert rules, Alertmanager routing, a Grafana dashboard.

`render_files()` produces everything under deploy/ that is generated (a test keeps the
committed files equal to it); `RuleParams.fast()` gives the same rules with short windows and
`for:` durations for live tests and the demo. Rule tests (promtool) live in
deploy/prometheus/tests/ and pin the production thresholds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import yaml

SEVERITY_RECEIVERS = {"page": "oncall", "ticket": "tickets"}


@dataclass(frozen=True)
class RuleParams:
    lag_records: int = 1000
    lag_for: str = "5m"
    dlq_ratio: float = 0.05
    dlq_window: str = "5m"
    dlq_for: str = "10m"
    latency_p95_seconds: float = 30.0
    latency_window: str = "5m"
    latency_for: str = "10m"
    late_rows: int = 100
    late_window: str = "10m"
    exporter_for: str = "5m"

    @classmethod
    def fast(cls, **overrides: Any) -> RuleParams:
        """Same rules, windows and durations short enough for a test or the demo."""
        quick = cls(lag_for="1s", dlq_window="1m", dlq_for="1s", latency_window="1m",
                    latency_for="1s", late_window="1m", exporter_for="1s")
        return replace(quick, **overrides)


def alerting_rules(p: RuleParams | None = None) -> dict[str, Any]:
    """The alert rules (a Prometheus rule file as a dict)."""
    # BEGIN SOLUTION
    p = p or RuleParams()
    rules = [
        {"alert": "StreamMLConsumerLagHigh",
         "expr": f"sum by (group, topic) (streamml_consumer_lag_records) > {p.lag_records}",
         "for": p.lag_for, "labels": {"severity": "page"},
         "annotations": {"summary": "{{ $labels.group }} is {{ $value }} records behind on "
                                    "{{ $labels.topic }}",
                         "runbook": "docs/runbooks.md#streammlconsumerlaghigh"}},
        {"alert": "StreamMLDeadLetterRateHigh",
         "expr": (f"sum(rate(streamml_dlq_records_total[{p.dlq_window}])) / "
                  f"sum(rate(streamml_records_in_total{{stage=\"validate\"}}[{p.dlq_window}]))"
                  f" > {p.dlq_ratio}"),
         "for": p.dlq_for, "labels": {"severity": "ticket"},
         "annotations": {"summary": f"more than {p.dlq_ratio:.0%} of events go to the "
                                    "dead-letter topic",
                         "runbook": "docs/runbooks.md#streammldeadletterratehigh"}},
        {"alert": "StreamMLEventToOutputLatencyHigh",
         "expr": ("histogram_quantile(0.95, sum by (le, stage) "
                  f"(rate(streamml_event_to_output_seconds_bucket[{p.latency_window}]))) "
                  f"> {p.latency_p95_seconds:g}"),
         "for": p.latency_for, "labels": {"severity": "ticket"},
         "annotations": {"summary": "p95 event-to-output latency of {{ $labels.stage }} is "
                                    f"above {p.latency_p95_seconds:g}s",
                         "runbook": "docs/runbooks.md#streammleventtooutputlatencyhigh"}},
        {"alert": "StreamMLLateRowsHigh",
         "expr": f"sum(increase(streamml_spark_late_rows_total[{p.late_window}])) "
                 f"> {p.late_rows}",
         "labels": {"severity": "ticket"},
         "annotations": {"summary": f"the watermark dropped more than {p.late_rows} late rows"
                                    f" in {p.late_window}",
                         "runbook": "docs/runbooks.md#streammllaterowshigh"}},
        {"alert": "StreamMLLagExporterDown",
         "expr": "streamml_lag_exporter_up == 0", "for": p.exporter_for,
         "labels": {"severity": "page"},
         "annotations": {"summary": "the lag exporter cannot reach the broker",
                         "runbook": "docs/runbooks.md#streammllagexporterdown"}},
    ]
    return {"groups": [{"name": "streamml", "rules": rules}]}
    # END SOLUTION


def alertmanager_config(webhook_base: str = "http://127.0.0.1:9099") -> dict[str, Any]:
    """Route by severity: page -> oncall, ticket -> tickets (each a webhook)."""
    # BEGIN SOLUTION
    return {
        "route": {"receiver": "tickets", "group_by": ["alertname", "group", "topic"],
                  "group_wait": "10s", "group_interval": "1m", "repeat_interval": "4h",
                  "routes": [{"matchers": [f'severity="{sev}"'], "receiver": receiver}
                             for sev, receiver in SEVERITY_RECEIVERS.items()]},
        "receivers": [{"name": receiver,
                       "webhook_configs": [{"url": f"{webhook_base}/{receiver}",
                                            "send_resolved": True}]}
                      for receiver in SEVERITY_RECEIVERS.values()],
    }
    # END SOLUTION


PANELS: list[tuple[str, str, str]] = [
    ("Consumer lag per partition", "streamml_consumer_lag_records", "records"),
    ("Records in per stage", "sum by (stage) (rate(streamml_records_in_total[1m]))", "rps"),
    ("Records out per stage and topic",
     "sum by (stage, topic) (rate(streamml_records_out_total[1m]))", "rps"),
    ("Dead letters by reason", "sum by (reason) (increase(streamml_dlq_records_total[5m]))",
     "short"),
    ("Quality-rule failures", "sum by (rule) (increase(streamml_quality_failures_total[5m]))",
     "short"),
    ("Event-to-output latency p50",
     "histogram_quantile(0.5, sum by (le, stage) "
     "(rate(streamml_event_to_output_seconds_bucket[1m])))", "s"),
    ("Event-to-output latency p95",
     "histogram_quantile(0.95, sum by (le, stage) "
     "(rate(streamml_event_to_output_seconds_bucket[1m])))", "s"),
    ("Transactions by outcome",
     "sum by (stage, outcome) (increase(streamml_transactions_total[5m]))", "short"),
    ("Spark processed rows/s", "streamml_spark_processed_rows_per_second", "rps"),
    ("Spark batch duration", "streamml_spark_batch_duration_seconds", "s"),
    ("Spark late rows dropped", "sum(increase(streamml_spark_late_rows_total[5m]))", "short"),
    ("Sink batches by outcome",
     "sum by (sink, outcome) (increase(streamml_sink_batches_total[5m]))", "short"),
]


def dashboard() -> dict[str, Any]:
    """A Grafana dashboard (JSON model, schema 39) with one timeseries panel per query."""
    panels = []
    for index, (title, expr, unit) in enumerate(PANELS):
        panels.append({
            "id": index + 1, "type": "timeseries", "title": title,
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": "A", "expr": expr,
                         "datasource": {"type": "prometheus", "uid": "${datasource}"}}],
        })
    return {
        "uid": "streamml-pipeline", "title": "streamml: streaming ML pipeline",
        "schemaVersion": 39, "version": 1, "editable": True, "time": {"from": "now-1h",
                                                                      "to": "now"},
        "refresh": "10s", "tags": ["streamml", "kafka", "spark"],
        "templating": {"list": [{"name": "datasource", "type": "datasource",
                                 "query": "prometheus", "current": {}}]},
        "panels": panels,
    }


def prometheus_config(targets: list[str], alertmanager: str | None = None,
                      interval: str = "15s") -> dict[str, Any]:
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": ["alerting_rules.yml"],
        "scrape_configs": [{"job_name": "streamml",
                            "static_configs": [{"targets": targets}]}],
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [
            {"targets": [alertmanager]}]}]}
    return config


def render_files() -> dict[str, str]:
    """deploy/ paths -> contents (what `streamml render` writes)."""
    def dump(data: dict[str, Any]) -> str:
        return str(yaml.safe_dump(data, sort_keys=False, width=100))

    return {
        "prometheus/alerting_rules.yml": dump(alerting_rules()),
        "prometheus/prometheus.yml": dump(prometheus_config(
            ["validate:9300", "score:9301", "features:9302", "lag-exporter:9303"],
            "alertmanager:9093")),
        "alertmanager/alertmanager.yml": dump(alertmanager_config(
            "http://alert-receiver:9099")),
        "grafana/dashboards/streamml.json": json.dumps(dashboard(), indent=2) + "\n",
    }
