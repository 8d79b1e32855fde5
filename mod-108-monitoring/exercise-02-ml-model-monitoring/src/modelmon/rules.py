"""Prometheus configuration, recording and alerting rules, and the Alertmanager config.

Generated from code so the thresholds live in one place and tests can build a fast variant
(`RuleParams.fast()`: seconds instead of minutes) of exactly the same expressions. The
production files under deploy/ are rendered with the defaults (`modelmon render`), and the
committed copies are checked against this module by the test suite.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

# Where docs/runbooks.md is published (wiki, git forge, docs site); every alert links
# `{runbook_base_url}#{alertname in lower case}`. Set `runbook_base_url` in the settings.
DEFAULT_RUNBOOK_BASE_URL = "https://runbooks.example.com/modelmon"


@dataclass(frozen=True)
class RuleParams:
    rate_window: str = "5m"
    latency_p99_seconds: float = 0.5
    latency_for: str = "10m"
    error_ratio: float = 0.05
    error_for: str = "5m"
    no_traffic_window: str = "10m"
    no_traffic_for: str = "10m"
    psi_threshold: float = 0.2
    drift_for: str = "15m"
    accuracy_drop: float = 0.05
    accuracy_min_labels: int = 50
    accuracy_for: str = "15m"
    quality_rate: float = 0.05
    quality_for: str = "10m"
    exporter_down_for: str = "2m"
    business_value_drop: float = 0.2  # value per prediction below 80% of its earlier level
    business_offset: str = "24h"  # compared with the same KPI this long ago
    business_for: str = "30m"
    evaluation_interval: str = "15s"
    scrape_interval: str = "15s"
    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL

    @classmethod
    def fast(cls) -> RuleParams:
        """Same rules on a test clock: alerts fire within seconds."""
        return cls(rate_window="30s", latency_for="2s", error_for="2s", no_traffic_window="30s",
                   no_traffic_for="2s", drift_for="2s", accuracy_for="2s", quality_for="2s",
                   exporter_down_for="2s", business_offset="2s", business_for="2s",
                   evaluation_interval="1s", scrape_interval="1s")


def recording_rules(p: RuleParams) -> dict[str, Any]:
    # BEGIN SOLUTION: request rate, error ratio, p99 latency, max PSI, accuracy drop, KPI
    # change
    w = p.rate_window
    return {"groups": [{
        "name": "modelmon-recording",
        "interval": p.evaluation_interval,
        "rules": [
            {"record": f"modelmon:requests:rate{w}",
             "expr": f"sum by (model, version) (rate(modelmon_requests_total[{w}]))"},
            {"record": f"modelmon:request_errors:rate{w}",
             "expr": "sum by (model, version) "
                     f"(rate(modelmon_requests_total{{outcome=\"server_error\"}}[{w}]))"},
            {"record": f"modelmon:request_error_ratio:rate{w}",
             "expr": f"modelmon:request_errors:rate{w} / modelmon:requests:rate{w}"},
            {"record": f"modelmon:request_latency_seconds:p99_{w}",
             "expr": "histogram_quantile(0.99, sum by (le, model, version) "
                     f"(rate(modelmon_request_latency_seconds_bucket[{w}])))"},
            {"record": "modelmon:feature_psi:max",
             "expr": "max by (model, version) (modelmon_feature_psi)"},
            {"record": "modelmon:accuracy_drop",
             "expr": "modelmon_model_baseline{metric=\"accuracy\"} "
                     "- ignoring(metric) modelmon_model_accuracy"},
            {"record": "modelmon:business_value_per_prediction:vs_offset",
             "expr": "modelmon_business_value_per_prediction / "
                     f"(modelmon_business_value_per_prediction offset {p.business_offset})"},
        ],
    }]}
    # END SOLUTION


def _alert(name: str, expr: str, for_: str, severity: str, summary: str, description: str,
           retrain: bool = False, runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
           ) -> dict[str, Any]:
    labels = {"severity": severity, "team": "ml-platform"}
    if retrain:
        labels["action"] = "retrain"
    return {"alert": name, "expr": expr, "for": for_, "labels": labels,
            "annotations": {"summary": summary, "description": description,
                            "runbook_url": f"{runbook_base_url.rstrip('/')}#{name.lower()}"}}


def alerting_rules(p: RuleParams) -> dict[str, Any]:
    # BEGIN SOLUTION: latency, errors, no traffic, drift, accuracy, quality, exporter
    w = p.rate_window
    alert = functools.partial(_alert, runbook_base_url=p.runbook_base_url)
    return {"groups": [{
        "name": "modelmon-alerts",
        "interval": p.evaluation_interval,
        "rules": [
            alert("ModelHighLatencyP99",
                   f"modelmon:request_latency_seconds:p99_{w} > {p.latency_p99_seconds}",
                   p.latency_for, "warning",
                   "p99 latency of {{ $labels.model }}/{{ $labels.version }} is high",
                   "p99 latency is {{ $value | humanizeDuration }} "
                   f"(threshold {p.latency_p99_seconds}s)."),
            alert("ModelHighErrorRate",
                   f"modelmon:request_error_ratio:rate{w} > {p.error_ratio}",
                   p.error_for, "critical",
                   "{{ $labels.model }}/{{ $labels.version }} is failing requests",
                   "{{ $value | humanizePercentage }} of requests fail "
                   f"(threshold {p.error_ratio:.0%})."),
            alert("ModelNoTraffic",
                   "sum by (model, version) "
                   f"(rate(modelmon_requests_total[{p.no_traffic_window}])) == 0",
                   p.no_traffic_for, "warning",
                   "{{ $labels.model }}/{{ $labels.version }} receives no traffic",
                   f"No requests in the last {p.no_traffic_window}."),
            alert("ModelRequestMetricsAbsent",
                   "absent(modelmon_requests_total{job=\"modelmon-service\"})",
                   p.no_traffic_for, "warning",
                   "The model service exports no request metrics",
                   f"No modelmon_requests_total series for {p.no_traffic_for}; "
                   "ModelNoTraffic cannot fire."),
            alert("ModelFeatureDrift",
                   f"modelmon_feature_psi > {p.psi_threshold}", p.drift_for, "warning",
                   "Feature {{ $labels.feature }} of {{ $labels.model }} drifted",
                   "PSI is {{ $value | printf \"%.2f\" }} "
                   f"(threshold {p.psi_threshold}) against the reference.", retrain=True),
            alert("ModelAccuracyDrop",
                   f"modelmon:accuracy_drop > {p.accuracy_drop} and on (model, version) "
                   f"modelmon_window_labelled_predictions >= {p.accuracy_min_labels}",
                   p.accuracy_for, "critical",
                   "Accuracy of {{ $labels.model }}/{{ $labels.version }} dropped",
                   "Accuracy is {{ $value | printf \"%.3f\" }} below the baseline "
                   f"(allowed drop {p.accuracy_drop}).", retrain=True),
            alert("ModelBusinessValueDrop",
                  "modelmon:business_value_per_prediction:vs_offset < "
                  f"{1 - p.business_value_drop:g} and on (model, version) "
                  f"modelmon_window_labelled_predictions >= {p.accuracy_min_labels}",
                  p.business_for, "warning",
                  "Business value per prediction of {{ $labels.model }}/"
                  "{{ $labels.version }} dropped",
                  "Value per prediction is {{ $value | humanizePercentage }} of its level "
                  f"{p.business_offset} earlier (allowed drop {p.business_value_drop:.0%})."),
            alert("ModelDataQuality",
                   f"max by (model, version, feature) (modelmon_feature_null_rate > "
                   f"{p.quality_rate} or modelmon_feature_out_of_range_rate > "
                   f"{p.quality_rate})",
                   p.quality_for, "warning",
                   "Bad input data for {{ $labels.model }} feature {{ $labels.feature }}",
                   "{{ $value | humanizePercentage }} of values are missing or out of range."),
            alert("ModelExporterDown",
                   "up{job=\"modelmon-exporter\"} == 0 or absent(up{job=\"modelmon-exporter\"})",
                   p.exporter_down_for, "critical",
                   "The modelmon ML exporter is down",
                   "Drift and accuracy are not being measured while the exporter is down."),
        ],
    }]}
    # END SOLUTION


def prometheus_config(service_target: str, exporter_target: str,
                      alertmanager_target: str | None, p: RuleParams,
                      rule_files: tuple[str, ...] = ("recording_rules.yml",
                                                     "alerting_rules.yml")) -> dict[str, Any]:
    config: dict[str, Any] = {
        "global": {"scrape_interval": p.scrape_interval,
                   "evaluation_interval": p.evaluation_interval},
        "rule_files": list(rule_files),
        "scrape_configs": [
            {"job_name": "modelmon-service", "static_configs": [{"targets": [service_target]}]},
            {"job_name": "modelmon-exporter",
             "static_configs": [{"targets": [exporter_target]}]},
        ],
    }
    if alertmanager_target:
        config["alerting"] = {"alertmanagers": [
            {"static_configs": [{"targets": [alertmanager_target]}]}]}
    return config


def alertmanager_config(receiver_url: str, fast: bool = False) -> dict[str, Any]:
    """Route critical alerts to the "page" channel and warnings to "ticket"."""
    # BEGIN SOLUTION: route critical to the page webhook, warning to ticket
    timing = ({"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1m"} if fast
              else {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"})
    return {
        "route": {"receiver": "ticket", "group_by": ["alertname", "model", "version"],
                  **timing,
                  "routes": [
                      {"receiver": "page", "matchers": ['severity="critical"']},
                      {"receiver": "ticket", "matchers": ['severity="warning"']},
                  ]},
        "inhibit_rules": [{
            "source_matchers": ['alertname="ModelExporterDown"'],
            "target_matchers": ['alertname=~"ModelFeatureDrift|ModelAccuracyDrop"'],
        }],
        "receivers": [
            {"name": "page", "webhook_configs": [
                {"url": f"{receiver_url}/webhook/page", "send_resolved": True}]},
            {"name": "ticket", "webhook_configs": [
                {"url": f"{receiver_url}/webhook/ticket", "send_resolved": True}]},
        ],
    }
    # END SOLUTION
