"""Prometheus and Alertmanager configuration as code: scrape config with file_sd, RED
recording rules, alert rules, and Alertmanager routing with inhibition (a page mutes the
ticket of the same SLO) to a webhook receiver."""

from __future__ import annotations

from typing import Any

from obsstack.services import ROLES

RED_GROUP = "obsstack-red"
ALERT_GROUP = "obsstack-alerts"


def scrape_config(file_sd_path: str, *, interval: str = "15s", evaluation: str = "15s",
                  rule_files: list[str] | None = None,
                  alertmanager: str | None = None) -> dict[str, Any]:
    """prometheus.yml: the services are discovered from a file_sd JSON file (one target
    group per role, labelled `service`), so adding a worker or a role needs no reload."""
    # BEGIN SOLUTION
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": evaluation},
        "rule_files": rule_files or [],
        "scrape_configs": [{
            "job_name": "obsstack",
            "file_sd_configs": [{"files": [file_sd_path], "refresh_interval": "5s"}],
            "relabel_configs": [{"source_labels": ["__address__"], "target_label": "instance"}],
        }],
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [
            {"targets": [alertmanager]}]}]}
    return config
    # END SOLUTION


def file_sd_targets(targets: dict[str, list[str]]) -> list[dict[str, Any]]:
    """file_sd JSON: `{role: ["127.0.0.1:8101", ...]}` -> target groups."""
    unknown = set(targets) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}")
    return [{"targets": list(addresses), "labels": {"role": role}}
            for role, addresses in sorted(targets.items())]


def red_rule_groups() -> list[dict[str, Any]]:
    """Recording rules for rate, errors and duration per service, and alerts on them."""
    # BEGIN SOLUTION
    by = "service"
    return [
        {"name": RED_GROUP, "rules": [
            {"record": "service:obsstack_http_requests:rate1m",
             "expr": f"sum by ({by}) (rate(obsstack_http_requests_total[1m]))"},
            {"record": "service:obsstack_http_errors:ratio_rate1m",
             "expr": (f'sum by ({by}) (rate(obsstack_http_requests_total{{code=~"5.."}}[1m]))'
                      f"\n/\nsum by ({by}) (rate(obsstack_http_requests_total[1m]))")},
            {"record": "service:obsstack_http_request_duration_seconds:p95_1m",
             "expr": ("histogram_quantile(0.95, sum by (service, le) "
                      "(rate(obsstack_http_request_duration_seconds_bucket[1m])))")},
        ]},
        {"name": ALERT_GROUP, "rules": [
            {"alert": "ObsstackTargetDown", "expr": 'up{job="obsstack"} == 0', "for": "1m",
             "labels": {"severity": "ticket"},
             "annotations": {"summary": "{{ $labels.instance }} ({{ $labels.role }}) is down"}},
            {"alert": "ObsstackSpansDropped",
             "expr": "sum by (service) (increase(obsstack_telemetry_dropped_spans_total[5m])) > 0",
             "for": "5m", "labels": {"severity": "ticket"},
             "annotations": {"summary": "{{ $labels.service }} cannot export its traces "
                                        "(collector down?)"}},
        ]},
    ]
    # END SOLUTION


def alertmanager_config(webhook_url: str, *, group_wait: str = "10s",
                        group_interval: str = "1m", repeat_interval: str = "4h"
                        ) -> dict[str, Any]:
    """Route pages and tickets to their webhook paths; a firing page inhibits the ticket
    of the same SLO and service (Sloth's page and ticket share the alert name)."""
    # BEGIN SOLUTION
    base = webhook_url.rstrip("/")
    return {
        "route": {
            "receiver": "ticket",
            "group_by": ["alertname", "slo", "slo_service"],
            "group_wait": group_wait, "group_interval": group_interval,
            "repeat_interval": repeat_interval,
            "routes": [
                {"receiver": "page", "matchers": ['severity="page"'], "continue": False},
                {"receiver": "ticket", "matchers": ['severity="ticket"']},
            ],
        },
        "inhibit_rules": [{
            "source_matchers": ['severity="page"'],
            "target_matchers": ['severity="ticket"'],
            "equal": ["alertname", "slo", "slo_service"],
        }],
        "receivers": [
            {"name": "page", "webhook_configs": [
                {"url": f"{base}/webhook/page", "send_resolved": True}]},
            {"name": "ticket", "webhook_configs": [
                {"url": f"{base}/webhook/ticket", "send_resolved": True}]},
        ],
    }
    # END SOLUTION
