"""Prometheus alert rules and the Alertmanager routing, rendered from the policy.

The thresholds come from the same `Policy` the retraining decision uses, so an alert and a
retraining trigger can never disagree about what "too much drift" is. `for: 0m` on purpose:
each sample already summarises a whole window, and persistence over N windows is the
policy's job. Rendered to deploy/ (`driftwatch render`) and tested with `promtool test rules`.
"""

from __future__ import annotations

from typing import Any

import yaml

from driftwatch.policy import Policy

STALE_AFTER_S = 7200  # a daily job that has not pushed for 2 h past its slot is stale


def alert_rules(policy: Policy, stale_after_s: int = STALE_AFTER_S,
                min_coverage: float = 0.3) -> dict[str, Any]:
    """The `groups:` document for Prometheus."""
    # BEGIN SOLUTION
    metric = policy.metric
    ref = f'driftwatch_reference_performance{{metric="{metric}"}}'
    by = "on(job, model, version)"

    def rule(name: str, expr: str, severity: str, summary: str) -> dict[str, Any]:
        return {"alert": name, "expr": expr, "for": "0m",
                "labels": {"severity": severity, "team": "ml"},
                "annotations": {"summary": summary,
                                "runbook": f"docs/runbooks.md#{name.lower()}"}}

    return {"groups": [{"name": "driftwatch", "rules": [
        rule("DriftwatchDataDrift",
             f"driftwatch_drifted_columns_share >= {policy.drifted_share:g}",
             "warning", "{{ $labels.model }}: {{ $value | humanizePercentage }} of the "
             "feature columns drifted in the latest window"),
        rule("DriftwatchPerformanceDrop",
             f'{ref} - {by} driftwatch_realized_performance{{metric="{metric}"}} '
             f">= {policy.max_realized_drop:g}",
             "critical", f"{{{{ $labels.model }}}}: realised {metric} dropped by "
             "{{ $value | printf \"%.3f\" }}"),
        rule("DriftwatchEstimatedPerformanceDrop",
             f'{ref} - {by} driftwatch_estimated_performance{{metric="{metric}"}} '
             f">= {policy.max_estimated_drop:g}",
             "warning", f"{{{{ $labels.model }}}}: CBPE-estimated {metric} dropped by "
             "{{ $value | printf \"%.3f\" }}"),
        rule("DriftwatchLowLabelCoverage",
             f"driftwatch_label_coverage_matured < {min_coverage:g}",
             "warning", "{{ $labels.model }}: only {{ $value | humanizePercentage }} of a "
             "matured window got labels"),
        rule("DriftwatchInsufficientData", "driftwatch_insufficient_data == 1",
             "warning", "{{ $labels.model }}: the latest window had too few rows to judge"),
        rule("DriftwatchJobStale",
             f'time() - push_time_seconds{{job="driftwatch"}} > {stale_after_s}',
             "critical", "{{ $labels.model }}: no driftwatch push for "
             "{{ $value | humanizeDuration }}"),
    ]}]}
    # END SOLUTION


def alertmanager_config() -> dict[str, Any]:
    """Critical alerts page the ML on-call; drift warnings go to the team's channel."""
    return {
        "route": {"receiver": "ml-team", "group_by": ["alertname", "model"],
                  "group_wait": "0s", "group_interval": "1m", "repeat_interval": "4h",
                  "routes": [
                      {"matchers": ['severity="critical"'], "receiver": "ml-oncall"},
                      {"matchers": ['alertname=~"Driftwatch.*Drift|DriftwatchLowLabelCoverage"'],
                       "receiver": "ml-team"},
                  ]},
        "receivers": [
            {"name": "ml-team", "webhook_configs": [
                {"url": "http://127.0.0.1:9/ml-team", "send_resolved": True}]},
            {"name": "ml-oncall", "webhook_configs": [
                {"url": "http://127.0.0.1:9/ml-oncall", "send_resolved": True}]},
        ],
    }


def prometheus_config(pushgateway: str, alertmanager: str | None = None,
                      interval: str = "15s") -> dict[str, Any]:
    """Scrape the Pushgateway with honor_labels (keep the pushed model/version labels)."""
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [{"job_name": "pushgateway", "honor_labels": True,
                            "static_configs": [{"targets": [pushgateway]}]}],
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    return config


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, width=100)
