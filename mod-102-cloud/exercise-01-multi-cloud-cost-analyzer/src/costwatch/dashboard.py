"""Dash dashboard (Plotly) over the store: spend over time, top movers, anomalies with a
drill-down, allocation and recommendations, filtered by dates, provider, account and tag.

Each callback opens the DuckDB file read-only for its own request, so the dashboard can run
next to a scheduler or an ingest in another process and always shows committed data.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html
from dash.dash_table.DataTable import DataTable

from costwatch import analysis
from costwatch.analysis import Filters
from costwatch.config import Settings
from costwatch.store import Store
from costwatch.summary import cost_recommendations, find_anomalies


def _filters(start: str | None, end: str | None, providers: list[str] | None,
             accounts: list[str] | None, tag: str | None, tag_key: str) -> Filters:
    first = date.fromisoformat(start[:10]) if start else None
    # The date picker's end is inclusive for people; the store's ranges are exclusive.
    stop = date.fromisoformat(end[:10]) + timedelta(days=1) if end else None
    tags = ((tag_key, tag),) if tag else ()
    return Filters(first, stop, tuple(providers or ()), (), tuple(accounts or ()), tags)


def spend_figure(store: Store, filters: Filters) -> go.Figure:
    rows = analysis.rollup(store, "provider", filters, granularity="day")
    figure = go.Figure()
    for provider in sorted({r["key"] for r in rows}):
        mine = [r for r in rows if r["key"] == provider]
        figure.add_bar(name=provider, x=[r["period"].isoformat() for r in mine],
                       y=[round(r["cost"], 2) for r in mine])
    figure.update_layout(barmode="stack", title="Daily spend by provider",
                         yaxis_title="cost", margin={"t": 40})
    return figure


def movers_figure(store: Store, filters: Filters) -> go.Figure:
    end = filters.end or date.today()
    rows = analysis.top_movers(store, "service", end, days=7, limit=8, filters=filters)
    figure = go.Figure(go.Bar(x=[round(r["change"], 2) for r in rows],
                              y=[r["key"] for r in rows], orientation="h"))
    figure.update_layout(title="Top movers (last 7 days vs the 7 before)", margin={"t": 40})
    return figure


def allocation_figure(store: Store, filters: Filters, settings: Settings) -> go.Figure:
    rule = analysis.SharedRule(tuple(settings.shared_tag_values),
                               tuple(settings.shared_services))
    result = analysis.allocate(store, settings.tag_key, filters, rule)
    owners = [r["owner"] for r in result.rows]
    figure = go.Figure([go.Bar(name="direct", x=owners, y=[r["direct"] for r in result.rows]),
                        go.Bar(name="shared", x=owners, y=[r["shared"] for r in result.rows])])
    figure.update_layout(barmode="stack", title=f"Allocation by {settings.tag_key}",
                         margin={"t": 40})
    return figure


def drilldown_figure(store: Store, anomaly: dict[str, Any] | None) -> go.Figure:
    """The anomalous day per resource, next to each resource's baseline median."""
    figure = go.Figure()
    if not anomaly:
        figure.update_layout(title="Select an anomaly to drill down")
        return figure
    day = date.fromisoformat(anomaly["day"])
    days = [day - timedelta(weeks=w) for w in range(1, 5)]
    key = (anomaly["provider"], anomaly["service"], anomaly["account"])
    detail = analysis.breakdown(store, key, [*days, day], Filters())["resource"]
    names = sorted(detail, key=lambda n: -detail[n].get(day, 0.0))[:10]
    figure.add_bar(name=str(day), x=names, y=[detail[n].get(day, 0.0) for n in names])
    baseline = [sorted(detail[n].get(d, 0.0) for d in days)[len(days) // 2] for n in names]
    figure.add_bar(name="baseline", x=names, y=baseline)
    figure.update_layout(title=f"{anomaly['service']} on {day} by resource", margin={"t": 40})
    return figure


def create_app(store_path: Path | str, settings: Settings | None = None) -> Dash:
    cfg = settings or Settings()
    with Store(store_path, read_only=True) as store:
        span = store.date_span() or (date.today() - timedelta(days=30), date.today())
        providers = sorted(analysis.totals(store, Filters()))
        accounts = [r["key"] for r in analysis.rollup(store, "account", Filters())]
        tag_values = [r["key"] for r in analysis.rollup(store, f"tag:{cfg.tag_key}", Filters())
                      if r["key"] != "(untagged)"]
        recs = [r.as_dict() for r in cost_recommendations(store, span[1] + timedelta(days=1))]
    default_start = max(span[0], span[1] - timedelta(days=29))

    app = Dash(__name__, title="costwatch")
    app.layout = html.Div([
        html.H1("costwatch"),
        html.Div([
            dcc.DatePickerRange(id="dates", start_date=default_start.isoformat(),
                                end_date=span[1].isoformat(), min_date_allowed=span[0].isoformat(),
                                max_date_allowed=span[1].isoformat(), display_format="YYYY-MM-DD"),
            dcc.Dropdown(id="provider", options=providers, multi=True,
                         placeholder="provider", style={"minWidth": "200px"}),
            dcc.Dropdown(id="account", options=accounts, multi=True,
                         placeholder="account", style={"minWidth": "200px"}),
            dcc.Dropdown(id="tag", options=tag_values, placeholder=f"tag {cfg.tag_key}",
                         style={"minWidth": "160px"}),
        ], style={"display": "flex", "gap": "12px"}),
        html.H2(["Total: ", html.Span(id="total")]),
        dcc.Graph(id="spend"),
        html.Div([dcc.Graph(id="movers"), dcc.Graph(id="allocation")],
                 style={"display": "grid", "gridTemplateColumns": "1fr 1fr"}),
        html.H2("Anomalies"),
        DataTable(id="anomalies", row_selectable="single", page_size=10,
                             columns=[{"name": c, "id": c} for c in (
                                 "day", "provider", "service", "account", "actual",
                                 "expected", "impact", "resource", "region")]),
        dcc.Graph(id="drilldown"),
        html.H2("Recommendations"),
        DataTable(id="recommendations", data=recs, page_size=10,  # type: ignore[arg-type]
                             columns=[{"name": c, "id": c} for c in (
                                 "kind", "resource_id", "action", "monthly_savings")]),
    ], style={"fontFamily": "sans-serif", "margin": "16px"})

    @app.callback(Output("spend", "figure"), Output("movers", "figure"),
                  Output("allocation", "figure"), Output("anomalies", "data"),
                  Output("total", "children"),
                  Input("dates", "start_date"), Input("dates", "end_date"),
                  Input("provider", "value"), Input("account", "value"),
                  Input("tag", "value"))
    def update(start: str | None, end: str | None, provider: list[str] | None,
               account: list[str] | None, tag: str | None) -> tuple[Any, ...]:
        filters = _filters(start, end, provider, account, tag, cfg.tag_key)
        with Store(store_path, read_only=True) as store:
            total = sum(analysis.totals(store, filters).values())
            first = max(filters.start or span[0], (filters.end or span[1]) - timedelta(days=14))
            found = find_anomalies(store, first, filters.end or span[1] + timedelta(days=1),
                                   filters, cfg.anomaly.detector())
            rows = [{**a.as_dict(), "resource": a.root_cause.get("resource"),
                     "region": a.root_cause.get("region")} for a in found]
            for row in rows:
                row.pop("root_cause")
            return (spend_figure(store, filters), movers_figure(store, filters),
                    allocation_figure(store, filters, cfg), rows, f"${total:,.2f}")

    @app.callback(Output("drilldown", "figure"), Input("anomalies", "selected_rows"),
                  Input("anomalies", "data"))
    def drill(selected: list[int] | None, rows: list[dict[str, Any]] | None) -> Any:
        anomaly = rows[selected[0]] if rows and selected else None
        with Store(store_path, read_only=True) as store:
            return drilldown_figure(store, anomaly)

    return app
