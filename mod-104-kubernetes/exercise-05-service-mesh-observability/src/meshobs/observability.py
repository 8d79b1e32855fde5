"""Alert rules and the Grafana dashboard, as code (rendered into `deploy/`).

Both are about what a mesh operator watches during a rollout: RED metrics per version, the
canary's weight and its checks, and workload certificates that are about to expire.
"""

from __future__ import annotations

from typing import Any

RATE = "$__rate_interval"


def alert_rules(fast: bool = False) -> dict[str, Any]:
    """Prometheus alerting rules. `fast` shortens `for:` (the live tests' 1 s evaluations)."""
    # BEGIN SOLUTION
    def hold(normal: str) -> str:
        return "2s" if fast else normal

    window = "10s" if fast else "5m"
    return {"groups": [{
        "name": "meshobs",
        "rules": [
            {"alert": "MeshCanaryRolledBack",
             "expr": f'increase(meshobs_rollouts_total{{result="failed"}}[{window}]) > 0',
             "labels": {"severity": "warning"},
             "annotations": {"summary": "Rollout of {{ $labels.service }} was rolled back",
                             "description": "See `meshobs rollout status {{ $labels.service }}`"
                                            " for the failed checks (query, value, threshold)."}},
            {"alert": "MeshCanaryCheckFailing",
             "expr": "meshobs_analysis_check_passed == 0",
             "for": hold("1m"),
             "labels": {"severity": "info"},
             "annotations": {"summary": "Check {{ $labels.check }} of {{ $labels.service }} "
                                        "is failing"}},
            {"alert": "MeshHighErrorRate",
             "expr": ('sum by (proxy, server) (rate(haproxy_server_http_responses_total'
                      f'{{code="5xx"}}[{"5s" if fast else "1m"}])) / sum by (proxy, server) '
                      '(rate(haproxy_server_http_responses_total'
                      f'[{"5s" if fast else "1m"}])) > 0.05'),
             "for": hold("2m"),
             "labels": {"severity": "critical"},
             "annotations": {"summary": "{{ $labels.server }} behind {{ $labels.proxy }} "
                                        "answers more than 5% 5xx"}},
            {"alert": "MeshWorkloadCertExpiringSoon",
             "expr": ("min by (service, spiffe_id) "
                      "(meshobs_workload_cert_expiry_timestamp_seconds) - time() < 600"),
             "for": hold("1m"),
             "labels": {"severity": "critical"},
             "annotations": {"summary": "Certificate of {{ $labels.spiffe_id }} expires in "
                                        "under 10 minutes: rotation is not working"}},
        ],
    }]}
    # END SOLUTION


def _panel(panel_id: int, title: str, exprs: list[tuple[str, str]], x: int, y: int,
           unit: str = "short", kind: str = "timeseries") -> dict[str, Any]:
    return {
        "id": panel_id, "type": kind, "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend,
                     "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                    for i, (expr, legend) in enumerate(exprs)],
    }


def dashboard() -> dict[str, Any]:
    """Grafana dashboard JSON (schema 39): RED per version, canary weight, checks, certs."""
    # BEGIN SOLUTION
    svc = 'service="$service"'
    backends = 'proxy=~"${service}_via_.+"'
    panels = [
        _panel(1, "Requests per second by version",
               [(f"sum by (version) (rate(meshobs_requests_total{{{svc}}}[{RATE}]))",
                 "{{version}}")], 0, 0, "reqps"),
        _panel(2, "5xx ratio by version (data plane)",
               [(f'sum by (server) (rate(haproxy_server_http_responses_total{{{backends},'
                 f'code="5xx"}}[{RATE}])) / sum by (server) (rate('
                 f'haproxy_server_http_responses_total{{{backends}}}[{RATE}]))',
                 "{{server}}")], 12, 0, "percentunit"),
        _panel(3, "p99 latency by version",
               [(f"histogram_quantile(0.99, sum by (version, le) (rate("
                 f"meshobs_request_duration_seconds_bucket{{{svc}}}[{RATE}])))",
                 "{{version}}")], 0, 8, "s"),
        _panel(4, "Canary weight",
               [(f"meshobs_canary_weight{{{svc}}}", "{{version}}")], 12, 8, "percent"),
        _panel(5, "Analysis checks (last value)",
               [(f"meshobs_analysis_check_value{{{svc}}}", "{{check}}")], 0, 16),
        _panel(6, "Workload certificate time to expiry",
               [("min by (service) (meshobs_workload_cert_expiry_timestamp_seconds) - time()",
                 "{{service}}")], 12, 16, "s"),
        _panel(7, "Spans received per second (collector)",
               [(f"sum by (format) (rate(meshobs_collector_spans_total[{RATE}]))",
                 "{{format}}")], 0, 24, "ops"),
    ]
    return {
        "uid": "meshobs-rollouts", "title": "meshobs: mesh traffic and rollouts",
        "schemaVersion": 39, "version": 1, "editable": True, "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"}, "tags": ["meshobs", "service-mesh"],
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus",
             "label": "Prometheus"},
            {"name": "service", "type": "query", "label": "Service",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": {"query": "label_values(meshobs_requests_total, service)",
                       "refId": "service"},
             "definition": "label_values(meshobs_requests_total, service)",
             "current": {"text": "model", "value": "model"}, "refresh": 2},
        ]},
        "panels": panels,
    }
    # END SOLUTION


def panel_queries(board: dict[str, Any], service: str, rate_interval: str = "5s"
                  ) -> list[tuple[str, str]]:
    """(panel title, PromQL) with Grafana's variables substituted, for running elsewhere."""
    out = []
    for panel in board["panels"]:
        for target in panel["targets"]:
            expr = (target["expr"].replace("${service}", service)
                    .replace("$service", service).replace(RATE, rate_interval))
            out.append((panel["title"], expr))
    return out
