"""Dashboards as code with grafana-foundation-sdk (Grafana 11.6 build), provisioning files,
lint rules in the spirit of Grafana's dashboard-linter, and the query extraction the tests
use to run every panel query against Prometheus or the Elasticsearch API.

Correlation built into the dashboards: the latency panels ask for exemplars (their trace ids
link to Tempo through the Prometheus datasource's `exemplarTraceIdDestinations`, see
`datasources()`), the logs panel links each line's `trace_id` to the trace, and the trace
panel takes a trace id variable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import dashboard as gdash
from grafana_foundation_sdk.builders import elasticsearch as ges
from grafana_foundation_sdk.builders import logs as glogs
from grafana_foundation_sdk.builders import prometheus as gprom
from grafana_foundation_sdk.builders import stat as gstat
from grafana_foundation_sdk.builders import tempo as gtempo
from grafana_foundation_sdk.builders import timeseries as gts
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import dashboard as mdash

PROM = mdash.DataSourceRef(type_val="prometheus", uid="${prometheus}")
LOGS = mdash.DataSourceRef(type_val="elasticsearch", uid="${logs}")
TEMPO = mdash.DataSourceRef(type_val="tempo", uid="${traces}")
TRACE_LINK = "/explore?left={\"datasource\":\"tempo\",\"queries\":[{\"query\":\"${__value.raw}\"}]}"

_registered = False


def _ensure_plugins() -> None:
    global _registered
    if not _registered:
        register_default_plugins()
        _registered = True


def _variables(builder: gdash.Dashboard, *, logs: bool = False) -> gdash.Dashboard:
    builder = builder.with_variable(
        gdash.DatasourceVariable("prometheus").label("Prometheus").type("prometheus"))
    if logs:
        builder = builder.with_variable(
            gdash.DatasourceVariable("logs").label("Logs").type("elasticsearch"))
        builder = builder.with_variable(
            gdash.DatasourceVariable("traces").label("Traces").type("tempo"))
    return builder.with_variable(
        gdash.QueryVariable("service").label("Service").datasource(PROM)
        .query("label_values(obsstack_http_requests_total, service)")
        .include_all(True).multi(True).all_value(".+"))


def _prom_panel(title: str, description: str, unit: str, expr: str, legend: str,
                exemplars: bool = False, width: int = 8) -> gts.Panel:
    return (gts.Panel().title(title).description(description).unit(unit).datasource(PROM)
            .height(8).span(width).line_width(1)
            .with_target(gprom.Dataquery().expr(expr).legend_format(legend)
                         .exemplar(exemplars).ref_id("A")))


def red_dashboard() -> mdash.Dashboard:
    """Rate, errors, duration per service, latency with exemplars."""
    # BEGIN SOLUTION
    sel = 'service=~"$service"'
    builder = (gdash.Dashboard("obsstack / RED").uid("obsstack-red").tags(["obsstack", "red"])
               .refresh("30s").time("now-1h", "now").timezone("utc"))
    builder = _variables(builder)
    return (builder
            .with_panel(_prom_panel(
                "Request rate", "Requests per second by service", "reqps",
                f"sum by (service) (rate(obsstack_http_requests_total{{{sel}}}[$__rate_interval]))",
                "{{service}}"))
            .with_panel(_prom_panel(
                "Error ratio", "Share of 5xx answers by service", "percentunit",
                f'sum by (service) (rate(obsstack_http_requests_total{{{sel}, code=~"5.."}}'
                f"[$__rate_interval]))\n/\nsum by (service) "
                f"(rate(obsstack_http_requests_total{{{sel}}}[$__rate_interval]))",
                "{{service}}"))
            .with_panel(_prom_panel(
                "Latency p95 (exemplars link to traces)",
                "95th percentile latency; the dots are exemplars whose trace id opens the trace",
                "s",
                "histogram_quantile(0.95, sum by (service, le) "
                f"(rate(obsstack_http_request_duration_seconds_bucket{{{sel}}}"
                "[$__rate_interval])))",
                "{{service}}", exemplars=True))
            .with_panel(_prom_panel(
                "Dropped spans", "Spans the OTLP exporter could not deliver", "short",
                f"sum by (service) (increase(obsstack_telemetry_dropped_spans_total{{{sel}}}"
                "[$__rate_interval]))", "{{service}}", width=12))
            .with_panel(_prom_panel(
                "Predictions by class", "Model predictions per second by version and class",
                "reqps",
                "sum by (model_version, prediction) "
                "(rate(obsstack_model_predictions_total[$__rate_interval]))",
                "{{model_version}} class {{prediction}}", width=12))
            .build())
    # END SOLUTION


def slo_dashboard() -> mdash.Dashboard:
    """Attainment, error budget remaining and burn rate per SLO."""
    builder = (gdash.Dashboard("obsstack / SLOs").uid("obsstack-slo").tags(["obsstack", "slo"])
               .refresh("1m").time("now-7d", "now").timezone("utc"))
    builder = _variables(builder)

    def stat(title: str, description: str, unit: str, expr: str) -> gstat.Panel:
        return (gstat.Panel().title(title).description(description).unit(unit)
                .datasource(PROM).height(6).span(8)
                .with_target(gprom.Dataquery().expr(expr).legend_format("{{slo_name}}")
                             .instant().ref_id("A")))

    return (builder
            .with_panel(stat("Objective", "Target share of good events", "percentunit",
                             "slo:objective:ratio"))
            .with_panel(stat("Error budget remaining", "Share of the period's budget left",
                             "percentunit", "slo:period_error_budget_remaining:ratio"))
            .with_panel(stat("Current burn rate", "Error ratio / budget (1 = on track)",
                             "short", "slo:current_burn_rate:ratio"))
            .with_panel(_prom_panel(
                "Burn rate over time", "Burn rate of the shortest window per SLO", "short",
                "slo:current_burn_rate:ratio", "{{slo_name}}", width=24))
            .build())


def logs_dashboard() -> mdash.Dashboard:
    """Log volume, errors by service, the lines themselves (trace ids link to traces), and
    the trace of a chosen id."""
    # BEGIN SOLUTION
    builder = (gdash.Dashboard("obsstack / logs and traces").uid("obsstack-logs")
               .tags(["obsstack", "logs", "traces"]).refresh("30s").time("now-1h", "now")
               .timezone("utc"))
    builder = _variables(builder, logs=True).with_variable(
        gdash.TextBoxVariable("trace_id").label("Trace id"))
    volume = (gts.Panel().title("Log volume").description("Log lines per minute by level")
              .unit("short").datasource(LOGS).height(8).span(12).line_width(1)
              .with_target(ges.Dataquery().ref_id("A").query("*").time_field("@timestamp")
                           .metrics([ges.Count().id("1")])
                           .bucket_aggs([ges.Terms().id("2").field("level"),
                                         ges.DateHistogram().id("3").field("@timestamp")])))
    errors = (gts.Panel().title("Errors by service")
              .description("Error lines per minute by service").unit("short")
              .datasource(LOGS).height(8).span(12).line_width(1)
              .with_target(ges.Dataquery().ref_id("A").query("level:error")
                           .time_field("@timestamp").metrics([ges.Count().id("1")])
                           .bucket_aggs([ges.Terms().id("2").field("service"),
                                         ges.DateHistogram().id("3").field("@timestamp")])))
    lines = (glogs.Panel().title("Log lines of the trace")
             .description("Every service's lines of $trace_id; click a trace id for the trace")
             .datasource(LOGS).height(10).span(24)
             .with_target(ges.Dataquery().ref_id("A").query("trace_id:$trace_id")
                          .time_field("@timestamp")))
    traces = (gdash.Panel().type("traces").title("Trace").description("The trace $trace_id")
              .datasource(TEMPO).height(12).span(24)
              .with_target(gtempo.TempoQuery().ref_id("A").query("$trace_id")))
    return (builder.with_panel(volume).with_panel(errors).with_panel(lines)
            .with_panel(traces).build())
    # END SOLUTION


def all_dashboards() -> dict[str, mdash.Dashboard]:
    return {"obsstack-red": red_dashboard(), "obsstack-slo": slo_dashboard(),
            "obsstack-logs": logs_dashboard()}


def to_json(board: mdash.Dashboard) -> dict[str, Any]:
    """A dashboard model as the JSON Grafana stores (panel ids numbered 1, 2, ...)."""
    data = dict(json.loads(json.dumps(board, cls=JSONEncoder)))
    for number, panel in enumerate(data.get("panels") or [], start=1):
        panel.setdefault("id", number)
    return data


def from_json(data: dict[str, Any]) -> mdash.Dashboard:
    """JSON -> the SDK's model (panels and queries decoded by their plugin variants)."""
    _ensure_plugins()
    return mdash.Dashboard.from_json(data)


def render_dashboards() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {f"{uid}.json": json.dumps(to_json(board), indent=2, sort_keys=True) + "\n"
            for uid, board in all_dashboards().items()}


def provisioning(dashboards_dir: str = "/var/lib/grafana/dashboards/obsstack"
                 ) -> dict[str, dict[str, Any]]:
    """Grafana provisioning files: the dashboard folder and the three datasources, with
    exemplar -> Tempo and log -> trace links configured on the datasources."""
    return {
        "dashboards/obsstack.yml": {"apiVersion": 1, "providers": [{
            "name": "obsstack", "folder": "obsstack", "type": "file",
            "disableDeletion": True, "allowUiUpdates": False,
            "options": {"path": dashboards_dir}}]},
        "datasources/obsstack.yml": {"apiVersion": 1, "datasources": [
            {"name": "Prometheus", "type": "prometheus", "uid": "prometheus",
             "url": "http://prometheus-operated:9090", "access": "proxy",
             "jsonData": {"exemplarTraceIdDestinations": [
                 {"name": "trace_id", "datasourceUid": "tempo"}]}},
            {"name": "Logs", "type": "elasticsearch", "uid": "logs",
             "url": "http://elasticsearch:9200", "access": "proxy",
             "jsonData": {"index": "obsstack-logs-*", "timeField": "@timestamp",
                          "logMessageField": "message", "logLevelField": "level",
                          "dataLinks": [{"field": "trace_id", "url": "${__value.raw}",
                                         "datasourceUid": "tempo"}]}},
            {"name": "Tempo", "type": "tempo", "uid": "tempo",
             "url": "http://tempo:3200", "access": "proxy",
             "jsonData": {"tracesToLogsV2": {"datasourceUid": "logs",
                                             "customQuery": True,
                                             "query": "trace_id:${__trace.traceId}"}}},
        ]},
    }


# --------------------------------------------------------------------------- lint


@dataclass(frozen=True)
class LintProblem:
    dashboard: str
    panel: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel or '-'}: [{self.rule}] {self.message}"


_RATE = re.compile(r"\b(rate|irate|increase)\(([^()]|\([^()]*\))*\[(?P<range>[^\]]+)\]")


def lint(data: dict[str, Any]) -> list[LintProblem]:
    """Rules after grafana/dashboard-linter: datasource variables instead of fixed
    datasources, titles and descriptions, units on graphs, `$__rate_interval` in rate(),
    unique ids, panels that do not overlap, a uid and tags."""
    # BEGIN SOLUTION
    name = str(data.get("uid") or data.get("title") or "?")
    problems: list[LintProblem] = []

    def add(panel: str, rule: str, message: str) -> None:
        problems.append(LintProblem(name, panel, rule, message))

    if not data.get("uid"):
        add("", "dashboard-uid", "dashboard has no uid (provisioned links break)")
    if not data.get("tags"):
        add("", "dashboard-tags", "dashboard has no tags")
    variables = {v.get("name"): v for v in (data.get("templating") or {}).get("list", [])}
    datasource_vars = {n for n, v in variables.items() if v.get("type") == "datasource"}
    if not datasource_vars:
        add("", "template-datasource-rule", "no datasource template variable")
    seen_ids: set[Any] = set()
    boxes: list[tuple[str, int, int, int, int]] = []
    for panel in data.get("panels") or []:
        title = str(panel.get("title") or "")
        label = title or f"panel {panel.get('id')}"
        if panel.get("id") in seen_ids:
            add(label, "panel-id-unique", f"duplicate panel id {panel.get('id')}")
        seen_ids.add(panel.get("id"))
        if not title:
            add(label, "panel-title-description-rule", "panel has no title")
        if not panel.get("description"):
            add(label, "panel-title-description-rule", "panel has no description")
        if panel.get("type") in {"timeseries", "stat", "gauge", "bargauge"}:
            unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
            if not unit:
                add(label, "panel-units-rule", "panel has no unit")
        ds = panel.get("datasource") or {}
        uid = str(ds.get("uid", ""))
        if not (uid.startswith("${") and uid[2:-1] in datasource_vars):
            add(label, "panel-datasource-rule",
                f"datasource {uid or 'missing'} is not a datasource variable")
        for target in panel.get("targets") or []:
            expr = str(target.get("expr") or "")
            for match in _RATE.finditer(expr):
                if match.group("range") != "$__rate_interval":
                    add(label, "target-rate-interval-rule",
                        f"{match.group(1)}() over [{match.group('range')}]: use "
                        "[$__rate_interval]")
        grid = panel.get("gridPos") or {}
        box = (label, int(grid.get("x", 0)), int(grid.get("y", 0)), int(grid.get("w", 0)),
               int(grid.get("h", 0)))
        for other in boxes:
            if (box[1] < other[1] + other[3] and other[1] < box[1] + box[3]
                    and box[2] < other[2] + other[4] and other[2] < box[2] + box[4]):
                add(label, "panel-grid-overlap", f"overlaps {other[0]!r}")
        boxes.append(box)
    return problems
    # END SOLUTION


# --------------------------------------------------------------------------- query extraction


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    kind: str  # promql | elasticsearch | tempo
    query: Any


def panel_queries(data: dict[str, Any], variables: dict[str, str] | None = None
                  ) -> list[PanelQuery]:
    """Every panel query with template variables substituted, ready to run: PromQL text,
    or an Elasticsearch search body translated from the Grafana query (Lucene subset
    `field:value AND ...`, count metric, terms and date_histogram bucket aggregations)."""
    values = {"__rate_interval": "1m", "service": ".+", "trace_id": "0" * 32,
              **(variables or {})}

    def substitute(text: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), m.group(0)), text)

    out = []
    name = str(data.get("uid"))
    for panel in data.get("panels") or []:
        kind = str((panel.get("datasource") or {}).get("type"))
        for target in panel.get("targets") or []:
            if kind == "prometheus":
                out.append(PanelQuery(name, panel["title"], "promql",
                                      substitute(str(target["expr"]))))
            elif kind == "elasticsearch":
                out.append(PanelQuery(name, panel["title"], "elasticsearch",
                                      es_search_body(target, substitute)))
            else:
                out.append(PanelQuery(name, panel["title"], kind,
                                      substitute(str(target.get("query", "")))))
    return out


def es_search_body(target: dict[str, Any], substitute: Any = str) -> dict[str, Any]:
    """Grafana's Elasticsearch query -> a search body (what Grafana's backend sends)."""
    lucene = substitute(str(target.get("query") or "*")).strip()
    filters: list[dict[str, Any]] = []
    if lucene not in {"", "*"}:
        for clause in re.split(r"\s+AND\s+", lucene):
            field, _, value = clause.partition(":")
            if not value:
                raise ValueError(f"unsupported Lucene clause {clause!r} (use field:value)")
            filters.append({"term": {field.strip(): value.strip().strip('"')}})
    body: dict[str, Any] = {"size": 0 if target.get("bucketAggs") else 100,
                            "query": {"bool": {"filter": filters}}}
    aggs: dict[str, Any] = {}
    cursor = aggs
    for agg in target.get("bucketAggs") or []:
        if agg["type"] == "terms":
            node: dict[str, Any] = {"terms": {"field": agg["field"], "size": 10}}
        elif agg["type"] == "date_histogram":
            node = {"date_histogram": {"field": agg["field"], "fixed_interval": "1m"}}
        else:
            raise ValueError(f"unsupported bucket aggregation {agg['type']!r}")
        cursor[str(agg["id"])] = node
        cursor = node.setdefault("aggs", {})
    if aggs:
        body["aggs"] = aggs
    return body
