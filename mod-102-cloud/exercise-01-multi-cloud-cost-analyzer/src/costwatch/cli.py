"""Command line for costwatch: parse, call the core, render. No logic lives here.

Exit codes (aiinfra_shared.cli.ExitCode): 0 ok, 1 failure, 2 usage (bad dates, unknown
dimension), 3 config or input data (missing FOCUS columns, wrong types, no exchange rate),
4 not found (no store yet), 5 a provider failed (403, unreachable), 70 internal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, expected_errors

from costwatch import __version__
from costwatch.analysis import Filters
from costwatch.config import Settings
from costwatch.errors import CostwatchError, DateRangeError, StoreError
from costwatch.store import Store

F = TypeVar("F", bound=Callable[..., Any])


class CostwatchGroup(AppGroup):
    """AppGroup that turns costwatch's own errors into one line and their exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        return self._invoke_guarded(ctx, self._translated)

    def _translated(self, ctx: click.Context) -> Any:
        with expected_errors(CostwatchError):
            return click.Group.invoke(self, ctx)


def settings_of(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    if "settings" not in obj:
        obj["settings"] = Settings.load(obj.get("config"))
    settings: Settings = obj["settings"]
    return settings


def parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise DateRangeError(f"--{name}: not a date (YYYY-MM-DD): {value!r}") from exc


def window(store: Store, start: str | None, end: str | None, days: int = 30
           ) -> tuple[date, date]:
    """[start, end) from the options; by default the last `days` days in the store."""
    span = store.date_span()
    if span is None:
        raise StoreError(f"the store {store.path} holds no costs: run `costwatch ingest`")
    stop = parse_day(end, "end") or span[1] + timedelta(days=1)
    first = parse_day(start, "start") or stop - timedelta(days=days)
    if stop <= first:
        raise DateRangeError(f"empty date range: end {stop} is not after start {first}")
    return first, stop


def date_options(fn: F) -> F:
    fn = click.option("--end", help="End day, exclusive (YYYY-MM-DD). Default: after the "
                      "last day in the store.")(fn)
    fn = click.option("--start", help="First day (YYYY-MM-DD). Default: 30 days before end.")(fn)
    return fn


def scope_options(fn: F) -> F:
    fn = click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE",
                      help="Only rows with this tag (repeatable).")(fn)
    fn = click.option("--account", "accounts", multiple=True, help="Only this sub-account "
                      "(repeatable).")(fn)
    fn = click.option("--provider", "providers", multiple=True,
                      help="Only this provider: AWS, Google Cloud, Microsoft (repeatable).")(fn)
    return fn


def make_filters(start: date, end: date, providers: tuple[str, ...], accounts: tuple[str, ...],
                 tags: tuple[str, ...], metric: str = "EffectiveCost") -> Filters:
    pairs = []
    for item in tags:
        key, sep, value = item.partition("=")
        if not sep:
            raise DateRangeError(f"--tag expects KEY=VALUE, got {item!r}")
        pairs.append((key, value))
    return Filters(start, end, providers, (), accounts, tuple(pairs), metric)


def open_store(ctx: click.Context, read_only: bool = True) -> Store:
    return Store(settings_of(ctx).store, read_only=read_only)


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(fn)


def money(value: float) -> str:
    return f"${value:,.2f}"


@click.group(cls=CostwatchGroup, epilog="""\b
Examples:
  costwatch ingest file exports/aws-focus.csv
  costwatch totals --by service --start 2026-10-01 --end 2026-11-01
  costwatch anomalies --json
  costwatch recommend --json
  costwatch report --format markdown --out report.md
  costwatch export --focus --out costs.parquet
  costwatch demo""")
@click.option("--config", "config", type=click.Path(path_type=Path, dir_okay=False),
              envvar="COSTWATCH_CONFIG", help="YAML/TOML settings file (env COSTWATCH_CONFIG).")
@click.version_option(__version__, prog_name="costwatch")
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """Multi-cloud cost analyzer: AWS, GCP and Azure spend in one FOCUS 1.2 store, with
    anomalies, forecasts, budgets, savings, reports and a dashboard."""
    ctx.obj = {"config": config}


# --------------------------------------------------------------------------- ingest


@cli.group(cls=CostwatchGroup)
def ingest() -> None:
    """Load one period of one source into the store (re-ingesting a period replaces it)."""


def _ingest(ctx: click.Context, source: Any, start: str | None, end: str | None,
            source_key: str | None, as_json: bool, default_days: int | None = 30) -> None:
    from costwatch.ingest import Period
    from costwatch.ingest import ingest as run

    settings = settings_of(ctx)
    period = None
    if start or end or default_days:
        today = datetime.now(UTC).date()
        stop = parse_day(end, "end") or today
        first = parse_day(start, "start") or stop - timedelta(days=default_days or 30)
        period = Period.checked(first, stop, today)
    rates = settings.rates()
    with Store(settings.store) as store:
        result = run(store, source, period, rates, settings.reporting_currency, source_key)
    if as_json:
        echo_json(result.as_dict())
    else:
        click.echo(f"ingested {result.rows} rows from {result.source} for {result.start}.."
                   f"{result.end - timedelta(days=1)} (replaced {result.replaced})")


@ingest.command("file")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--source", "source_key", help="Source key (default file:<name>).")
@date_options
@json_option
@click.pass_context
def ingest_file(ctx: click.Context, path: Path, source_key: str | None, start: str | None,
                end: str | None, as_json: bool) -> None:
    """Any FOCUS CSV or Parquet file (period: the days it covers, or --start/--end)."""
    from costwatch.adapters.focus_file import FocusFileSource

    _ingest(ctx, FocusFileSource(path), start, end, source_key, as_json, default_days=None)


def _aws_client(settings: Settings, service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=settings.aws.region,
                        endpoint_url=settings.aws.endpoint_url)


@ingest.command("aws")
@click.option("--group-by", multiple=True, help="SERVICE, LINKED_ACCOUNT, REGION or tag:<key> "
              "(at most two; default from settings).")
@date_options
@json_option
@click.pass_context
def ingest_aws(ctx: click.Context, group_by: tuple[str, ...], start: str | None,
               end: str | None, as_json: bool) -> None:
    """AWS Cost Explorer, DAILY (default: the last 30 days)."""
    from costwatch.adapters.aws import CostExplorerSource

    settings = settings_of(ctx)
    source = CostExplorerSource(_aws_client(settings, "ce"),
                                list(group_by) or settings.aws.group_by)
    _ingest(ctx, source, start, end, None, as_json)


@ingest.command("aws-s3")
@click.option("--bucket", required=True, help="Bucket of the FOCUS data export.")
@click.option("--prefix", default="", help="Key prefix of the export files.")
@date_options
@json_option
@click.pass_context
def ingest_aws_s3(ctx: click.Context, bucket: str, prefix: str, start: str | None,
                  end: str | None, as_json: bool) -> None:
    """FOCUS Parquet/CSV exports under an S3 prefix."""
    from costwatch.adapters.aws import S3FocusSource

    source = S3FocusSource(_aws_client(settings_of(ctx), "s3"), bucket, prefix)
    _ingest(ctx, source, start, end, None, as_json)


@ingest.command("gcp")
@date_options
@json_option
@click.pass_context
def ingest_gcp(ctx: click.Context, start: str | None, end: str | None, as_json: bool) -> None:
    """The BigQuery billing export named in settings (gcp.project, gcp.table)."""
    from google.cloud import bigquery, billing_v1

    from costwatch.adapters.gcp import BigQueryBillingSource

    gcp = settings_of(ctx).gcp
    if not gcp.project or not gcp.table:
        raise CLIError("set gcp.project and gcp.table (COSTWATCH_GCP__PROJECT, "
                       "COSTWATCH_GCP__TABLE)", ExitCode.CONFIG)
    options: dict[str, Any] = {"api_endpoint": gcp.api_endpoint} if gcp.api_endpoint else {}
    extra: dict[str, Any] = {}
    if gcp.api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        extra["credentials"] = AnonymousCredentials()  # type: ignore[no-untyped-call]
    client = bigquery.Client(project=gcp.project, client_options=options, **extra)
    catalog = (billing_v1.CloudCatalogClient(transport="rest", client_options=options, **extra)
               if gcp.catalog_services else None)
    source = BigQueryBillingSource(client, gcp.table, gcp.kind, gcp.labels, catalog,
                                   gcp.catalog_services)
    _ingest(ctx, source, start, end, None, as_json)


@ingest.command("azure")
@date_options
@json_option
@click.pass_context
def ingest_azure(ctx: click.Context, start: str | None, end: str | None, as_json: bool) -> None:
    """Azure Cost Management for the scope in settings (azure.scope, azure.token)."""
    from costwatch.adapters.azure import AzureCostSource, StaticTokenCredential, make_client

    azure = settings_of(ctx).azure
    if not azure.scope or not azure.token:
        raise CLIError("set azure.scope and azure.token (COSTWATCH_AZURE__SCOPE, "
                       "COSTWATCH_AZURE__TOKEN)", ExitCode.CONFIG)
    client = make_client(StaticTokenCredential(azure.token), azure.base_url)
    source = AzureCostSource(client, azure.scope, azure.group_by, azure.tag_key)
    _ingest(ctx, source, start, end, None, as_json)


# --------------------------------------------------------------------------- analysis


@cli.command()
@click.option("--by", default="provider", show_default=True,
              help="provider, service, account, region, resource, category or tag:<key>.")
@click.option("--granularity", type=click.Choice(["total", "day", "month"]), default="total",
              show_default=True)
@click.option("--metric", type=click.Choice(["EffectiveCost", "BilledCost", "ListCost"]),
              default="EffectiveCost", show_default=True)
@date_options
@scope_options
@json_option
@click.pass_context
def totals(ctx: click.Context, by: str, granularity: str, metric: str, start: str | None,
           end: str | None, providers: tuple[str, ...], accounts: tuple[str, ...],
           tags: tuple[str, ...], as_json: bool) -> None:
    """Spend rolled up by a dimension."""
    from costwatch import analysis

    with open_store(ctx) as store:
        first, stop = window(store, start, end)
        filters = make_filters(first, stop, providers, accounts, tags, metric)
        rows = analysis.rollup(store, by, filters, granularity)
    if as_json:
        echo_json({"start": first, "end": stop, "by": by, "rows": rows})
        return
    click.echo(f"{metric} {first}..{stop - timedelta(days=1)} by {by}")
    for r in rows:
        prefix = f"{r['period']}  " if "period" in r else ""
        click.echo(f"  {prefix}{r['key']:<45} {money(r['cost']):>14}")
    click.echo(f"  {'total':<45} {money(sum(r['cost'] for r in rows)):>14}")


@cli.command()
@click.option("--tag", "tag_key", help="Tag key that names the owner (default: tag_key).")
@date_options
@json_option
@click.pass_context
def allocate(ctx: click.Context, tag_key: str | None, start: str | None, end: str | None,
             as_json: bool) -> None:
    """Cost per owner tag, with shared and untagged costs split by direct spend."""
    from costwatch import analysis

    settings = settings_of(ctx)
    key = tag_key or settings.tag_key
    rule = analysis.SharedRule(tuple(settings.shared_tag_values),
                               tuple(settings.shared_services))
    with open_store(ctx) as store:
        first, stop = window(store, start, end)
        result = analysis.allocate(store, key, Filters(first, stop), rule)
        missing = analysis.untagged(store, key, Filters(first, stop))
    if as_json:
        echo_json({"tag": key, "shared_pool": result.shared_pool, "rows": result.rows,
                   "untagged": missing})
        return
    click.echo(f"allocation by tag {key!r}, shared pool {money(result.shared_pool)}")
    for r in result.rows:
        click.echo(f"  {r['owner']:<20} direct {money(r['direct']):>14}  shared "
                   f"{money(r['shared']):>12}  total {money(r['total']):>14}")
    for u in missing[:10]:
        click.echo(f"  untagged: {u['provider']} {u['service']} {money(u['untagged'])} "
                   f"({u['share']:.0%})")


@cli.command()
@click.option("--as-of", help="Last complete day (default: last day in the store).")
@json_option
@click.pass_context
def forecast(ctx: click.Context, as_of: str | None, as_json: bool) -> None:
    """Month-end forecast (weekly seasonality + trend) and budget alerts."""
    from costwatch import analysis
    from costwatch.forecast import forecast_month_end
    from costwatch.summary import budget_statuses

    settings = settings_of(ctx)
    with open_store(ctx) as store:
        _, stop = window(store, None, None)
        day = parse_day(as_of, "as-of") or stop - timedelta(days=1)
        daily = analysis.daily_totals(store, Filters(day - timedelta(days=62),
                                                     day + timedelta(days=1)))
        result = forecast_month_end(daily, day)
        budgets = budget_statuses(store, settings.budgets, day)
    if as_json:
        echo_json({"forecast": result.as_dict(), "budgets": [b.as_dict() for b in budgets]})
        return
    click.echo(f"{result.month}: {money(result.actual_to_date)} to {day}, forecast "
               f"{money(result.month_end)} ({result.method})")
    for b in budgets:
        alerts = ", ".join(f"{a['threshold']:.0%} {a['basis']}" for a in b.alerts) or "ok"
        click.echo(f"  budget {b.name}: {money(b.actual)} / {money(b.amount)}, forecast "
                   f"{money(b.forecast)}: {alerts}")


@cli.command()
@date_options
@scope_options
@json_option
@click.pass_context
def anomalies(ctx: click.Context, start: str | None, end: str | None,
              providers: tuple[str, ...], accounts: tuple[str, ...], tags: tuple[str, ...],
              as_json: bool) -> None:
    """Cost spikes per (provider, service, account) with their root cause."""
    from costwatch.summary import find_anomalies

    settings = settings_of(ctx)
    with open_store(ctx) as store:
        first, stop = window(store, start, end, days=14)
        filters = make_filters(first, stop, providers, accounts, tags)
        found = find_anomalies(store, first, stop, filters, settings.anomaly.detector())
    if as_json:
        echo_json([a.as_dict() for a in found])
        return
    if not found:
        click.echo(f"no anomalies {first}..{stop - timedelta(days=1)}")
    for a in found:
        cause = a.root_cause
        click.echo(f"{a.day} {a.provider} / {a.service} / {a.account}: {money(a.actual)} vs "
                   f"{money(a.expected)} expected (+{money(a.impact)}, z={a.z_score:.1f}); "
                   f"root cause: {cause.get('resource', '?')} in {cause.get('region', '?')}")


@cli.command()
@click.option("--aws/--no-aws", "use_aws", default=False,
              help="Also scan the AWS inventory (EC2, CloudWatch, SageMaker, S3).")
@json_option
@click.pass_context
def recommend(ctx: click.Context, use_aws: bool, as_json: bool) -> None:
    """Savings recommendations with estimated monthly savings, largest first."""
    from costwatch.recommend import recommend as inventory_recs
    from costwatch.summary import cost_recommendations

    settings = settings_of(ctx)
    recs = []
    if use_aws:
        from costwatch.adapters.aws_inventory import AwsInventory

        inventory = AwsInventory(lambda name: _aws_client(settings, name),
                                 settings.aws.region).collect(datetime.now(UTC))
        recs += inventory_recs(inventory, datetime.now(UTC))
    if Path(settings.store).exists():
        with open_store(ctx) as store:
            span = store.date_span()
            if span:
                recs += cost_recommendations(store, span[1] + timedelta(days=1))
    recs.sort(key=lambda r: -r.monthly_savings)
    if as_json:
        echo_json({"monthly_savings": round(sum(r.monthly_savings for r in recs), 2),
                   "recommendations": [r.as_dict() for r in recs]})
        return
    for r in recs:
        click.echo(f"{money(r.monthly_savings):>12}/month  {r.kind:<26} {r.resource_id}: "
                   f"{r.action} ({r.detail})")
    click.echo(f"total {money(sum(r.monthly_savings for r in recs))}/month")


# --------------------------------------------------------------------------- reports


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default="markdown",
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file (atomically) instead of stdout.")
@click.option("--email", "email_to", multiple=True, help="Send by e-mail (SMTP settings).")
@click.option("--webhook", help="POST a Slack-style JSON summary to this URL.")
@date_options
@click.pass_context
def report(ctx: click.Context, fmt: str, out: Path | None, email_to: tuple[str, ...],
           webhook: str | None, start: str | None, end: str | None) -> None:
    """Render a report (Jinja2); optionally e-mail it or post it to a webhook."""
    from aiinfra_shared.io import atomic_write_text

    from costwatch import reports
    from costwatch.adapters.notify import post_webhook, send_email
    from costwatch.summary import build_summary

    settings = settings_of(ctx)
    with open_store(ctx) as store:
        first, stop = window(store, start, end, days=7)
        summary = build_summary(store, first, stop, budgets=settings.budgets,
                                detector=settings.anomaly.detector())
    text = reports.render(summary, fmt)
    if out:
        atomic_write_text(out, text)
    elif not email_to and not webhook:
        click.echo(text)
    if email_to:
        smtp = settings.smtp
        send_email(smtp.host, smtp.port, smtp.sender, list(email_to), reports.subject(summary),
                   reports.render(summary, "markdown"), reports.render(summary, "html"),
                   smtp.username, smtp.password, smtp.starttls)
        click.echo(f"sent to {', '.join(email_to)}", err=True)
    if webhook:
        post_webhook(webhook, reports.slack_payload(summary))
        click.echo(f"posted to {webhook}", err=True)


@cli.group(cls=CostwatchGroup)
def schedule() -> None:
    """Scheduled reports (APScheduler, cron triggers, SQLite job store)."""


@schedule.command("run")
@click.pass_context
def schedule_run(ctx: click.Context) -> None:
    """Run the scheduler in the foreground until interrupted."""
    from costwatch.scheduling import build_scheduler

    settings = settings_of(ctx)
    if not settings.reports:
        raise CLIError("no reports configured (settings: reports)", ExitCode.CONFIG)
    scheduler = build_scheduler(settings, ctx.find_root().obj.get("config"))
    click.echo(f"scheduling {len(settings.reports)} report(s); Ctrl-C stops", err=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


@schedule.command("send")
@click.argument("name")
@click.pass_context
def schedule_send(ctx: click.Context, name: str) -> None:
    """Send report NAME for its last complete period now (once: a repeat does nothing)."""
    from costwatch.scheduling import run_report

    settings = settings_of(ctx)
    if settings.report(name) is None:
        raise CLIError(f"no report named {name!r} in the configuration", ExitCode.NOT_FOUND)
    subject = run_report(settings, name)
    click.echo(f"sent: {subject}" if subject else f"{name}: this period was already sent")


# --------------------------------------------------------------------------- export/dashboard


@cli.command()
@click.option("--focus", "focus", is_flag=True, required=True,
              help="Write FOCUS 1.2 Parquet (the only format).")
@click.option("--out", "target", required=True, help="A file path or s3://bucket/key.")
@date_options
@scope_options
@click.pass_context
def export(ctx: click.Context, focus: bool, target: str, start: str | None, end: str | None,
           providers: tuple[str, ...], accounts: tuple[str, ...], tags: tuple[str, ...]) -> None:
    """Export the store as typed FOCUS 1.2 Parquet, to a file or S3."""
    from costwatch.export import export_focus

    settings = settings_of(ctx)
    with open_store(ctx) as store:
        span = store.date_span()
        if span is None:
            raise StoreError(f"the store {store.path} holds no costs")
        first = parse_day(start, "start") or span[0]
        stop = parse_day(end, "end") or span[1] + timedelta(days=1)
        filters = make_filters(first, stop, providers, accounts, tags)
        client = _aws_client(settings, "s3") if target.startswith("s3://") else None
        rows = export_focus(store, filters, target, client)
    click.echo(f"exported {rows} FOCUS rows to {target}")


@cli.command()
@click.option("--host", help="Bind address (default: settings.dashboard_host).")
@click.option("--port", type=int, help="Port (default: settings.dashboard_port).")
@click.pass_context
def dashboard(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the Dash dashboard over the store (Ctrl-C stops)."""
    from costwatch.dashboard import create_app

    settings = settings_of(ctx)
    app = create_app(settings.store, settings)
    bind, where = host or settings.dashboard_host, port or settings.dashboard_port
    click.echo(f"dashboard on http://{bind}:{where}/", err=True)
    app.run(host=bind, port=where, debug=False)


@cli.command()
@click.option("--serve/--no-serve", default=True, help="Serve the dashboard afterwards.")
@click.option("--port", type=int, default=8050, show_default=True)
@click.pass_context
def demo(ctx: click.Context, serve: bool, port: int) -> None:
    """Ingest the bundled three-cloud sample, print totals, anomalies and top savings."""
    from costwatch.demo import run_demo

    run_demo(settings_of(ctx), echo=click.echo, serve=serve, port=port)


main = cli
