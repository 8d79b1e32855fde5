"""Command line for obsstack: parse, call the core, render. No logic lives here.

Exit codes (aiinfra_shared.cli.ExitCode): 0 ok, 1 failure (stale files, lint problems,
SLO budget exhausted with --fail-on-exhausted), 2 usage, 3 config (invalid settings or SLO
spec), 4 not found (no log lines for a trace, unknown saved query), 5 unavailable
(Elasticsearch, Prometheus or a service unreachable), 70 internal.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import click
import httpx
from aiinfra_shared.cli import (
    AppGroup,
    CLIError,
    ExitCode,
    echo_json,
    print_table,
    progress_bar,
)

from obsstack import __version__
from obsstack.config import Settings
from obsstack.services import ROLES

CONFIG_HELP = "YAML/TOML settings file (also $OBSSTACK_CONFIG); env vars OBSSTACK_* override."


def _settings(config: Path | None) -> Settings:
    return Settings.load(config)


config_option = click.option("--config", "config", type=click.Path(path_type=Path,
                             dir_okay=False), envvar="OBSSTACK_CONFIG", help=CONFIG_HELP)


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="obsstack")
def cli() -> None:
    """Observability stack for an ML service: metrics, traces and logs, correlated, with
    SLOs.

    \b
    Examples:
      obsstack serve gateway --port 8100 --workers 2
      obsstack ship data/logs/*.log --once
      obsstack logs --trace-id 4bf92f3577b34da6a3ce929d0e0e4736
      obsstack slo generate deploy/slo/slos.yaml --out deploy/prometheus/slo
      obsstack slo report deploy/slo/slos.yaml --prometheus-url http://127.0.0.1:9090
      obsstack stack up
    """


# --------------------------------------------------------------------------- services


@cli.command()
@click.argument("role", type=click.Choice(ROLES))
@click.option("--port", type=click.IntRange(1, 65535), required=True)
@click.option("--workers", type=click.IntRange(1, 32), default=1, show_default=True,
              help="uvicorn workers (>1: prometheus_client multiprocess mode + exemplars).")
@config_option
def serve(role: str, port: int, workers: int, config: Path | None) -> None:
    """Serve one role of the demo ML service (gateway, features, model).

    \b
    Examples:
      obsstack serve model --port 8102
      OBSSTACK_OTLP_ENDPOINT=http://127.0.0.1:4318 obsstack serve gateway --port 8100 --workers 2
    """
    from obsstack.runner import serve as run

    run(role, port, workers, _settings(config), config_file=config)


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=9109, show_default=True)
@click.option("--data", type=click.Path(path_type=Path), default=Path("data/alerts.json"),
              show_default=True, help="Where received notifications are kept.")
def receiver(port: int, data: Path) -> None:
    """Alertmanager webhook receiver (POST /webhook/{page,ticket}, GET /alerts)."""
    import uvicorn

    from obsstack.receiver import create_receiver_app

    uvicorn.run(create_receiver_app(data), host="127.0.0.1", port=port, log_level="warning")


@cli.command()
@click.option("--gateway-url", default="http://127.0.0.1:8100", show_default=True)
@click.option("--rate", type=click.FloatRange(0.1, 1000), default=10, show_default=True,
              help="Requests per second.")
@click.option("--count", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def traffic(gateway_url: str, rate: float, count: int, as_json: bool) -> None:
    """Send prediction requests to the gateway.

    \b
    Example:
      obsstack traffic --rate 20 --count 200
    """
    from obsstack.traffic import TrafficStats, run_traffic

    stats = TrafficStats()
    with progress_bar("requests", total=count) as advance:
        for _ in range(count):
            run_traffic(gateway_url, rate=0, count=1, stats=stats)
            advance(1)
    if stats.codes.get(0, 0) == stats.sent:
        raise CLIError(f"gateway at {gateway_url} unreachable", ExitCode.UNAVAILABLE)
    if as_json:
        echo_json(stats.as_dict())
    else:
        print_table("traffic", ["status", "requests"],
                    [(code or "unreachable", n) for code, n in sorted(stats.codes.items())])


@cli.command()
@click.argument("service_url")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, show_default=True)
def faults(service_url: str, error_rate: float, latency_ms: float) -> None:
    """Inject errors and latency into a running service (0 0 clears).

    \b
    Example:
      obsstack faults http://127.0.0.1:8102 --error-rate 0.3 --latency-ms 200
    """
    from obsstack.traffic import set_faults

    try:
        click.echo(json.dumps(set_faults(service_url, error_rate, latency_ms)))
    except httpx.HTTPError as exc:
        raise CLIError(f"cannot reach {service_url}: {exc}", ExitCode.UNAVAILABLE) from exc


@cli.command()
@click.argument("entities", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("data/scores.jsonl"), show_default=True)
@click.option("--chunk-size", type=click.IntRange(1, 10_000), default=50, show_default=True)
@config_option
def batch(entities: Path, out: Path, chunk_size: int, config: Path | None) -> None:
    """Batch scoring job: score entity ids (one per line) through the features service,
    as one trace (`batch.score` root span), results in JSON lines.

    \b
    Example:
      OBSSTACK_FEATURES_URL=http://127.0.0.1:8101 obsstack batch entities.txt --out scores.jsonl
    """
    from obsstack.batch import BatchInputError, read_entities, run_batch

    settings = _settings(config)
    try:
        ids = read_entities(entities)
    except BatchInputError as exc:
        raise CLIError(str(exc), ExitCode.CONFIG) from exc
    with progress_bar("scoring", total=len(ids)) as advance:
        result = run_batch(ids, out, settings, chunk_size, progress=advance)
    click.echo(json.dumps(result.as_dict()))
    if result.failed == len(ids):
        raise CLIError(f"every request failed: is the features service at "
                       f"{settings.features_url} up?", ExitCode.UNAVAILABLE)
    if result.failed:
        raise CLIError(f"{result.failed} of {len(ids)} entities failed (see {out})",
                       ExitCode.FAILURE)


# --------------------------------------------------------------------------- logs


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--once", is_flag=True, help="Ship what the files hold now, then exit.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=None,
              help="Lines per _bulk request (default from settings: 500).")
@click.option("--elasticsearch-url", default=None, help="Default from settings.")
@config_option
def ship(paths: tuple[str, ...], once: bool, batch_size: int | None,
         elasticsearch_url: str | None, config: Path | None) -> None:
    """Tail JSON log files into Elasticsearch (the Fluent Bit role).

    Offsets are checkpointed in the state dir; a replay overwrites (ids from file and
    offset); malformed lines go to the dead-letter index; while Elasticsearch is down,
    batches wait in a bounded disk buffer, then reading stops.

    \b
    Examples:
      obsstack ship 'data/logs/*.log'
      OBSSTACK_SHIPPER__BATCH_SIZE=1 obsstack ship data/logs/model.log --once
    """
    from obsstack.ship import ElasticsearchSink, Shipper, expand_paths

    settings = _settings(config)
    shipper_settings = settings.shipper
    if batch_size:
        shipper_settings = shipper_settings.model_copy(update={"batch_size": batch_size})
    shipper = Shipper(expand_paths(paths), ElasticsearchSink(
        elasticsearch_url or settings.elasticsearch_url), settings.index_prefix,
        shipper_settings)
    stop = threading.Event()
    try:
        with progress_bar("lines shipped") as advance:
            stats = shipper.run(stop, once=once, progress=advance)
    except KeyboardInterrupt:
        stop.set()
        stats = shipper.stats
    click.echo(json.dumps(stats.as_dict()))
    if once and shipper.buffered_bytes():
        raise CLIError(f"Elasticsearch unavailable: {stats.buffered_batches} batch(es) wait "
                       f"in {shipper.buffer_dir} (run again to deliver them)",
                       ExitCode.UNAVAILABLE)


@cli.command()
@click.option("--trace-id", help="Every service's lines of one trace.")
@click.option("--saved", "saved", help="Run a saved query by name.")
@click.option("--queries", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("deploy/logs/saved-queries.yaml"), show_default=True)
@click.option("--list", "list_saved", is_flag=True, help="List the saved queries.")
@click.option("--elasticsearch-url", default=None, help="Default from settings.")
@click.option("--json", "as_json", is_flag=True)
@config_option
def logs(trace_id: str | None, saved: str | None, queries: Path, list_saved: bool,
         elasticsearch_url: str | None, as_json: bool, config: Path | None) -> None:
    """Find log lines by trace id, or run a saved query.

    \b
    Examples:
      obsstack logs --trace-id 4bf92f3577b34da6a3ce929d0e0e4736
      obsstack logs --saved errors-by-service --json
      obsstack logs --list
    """
    from obsstack.logsearch import (
        LogSearch,
        LogSearchError,
        LogStoreUnavailableError,
        load_saved_queries,
    )

    settings = _settings(config)
    if sum(bool(x) for x in (trace_id, saved, list_saved)) != 1:
        raise click.UsageError("give exactly one of --trace-id, --saved or --list")
    search = LogSearch(elasticsearch_url or settings.elasticsearch_url, settings.index_prefix)
    try:
        if list_saved or saved:
            named = load_saved_queries(queries)
            if list_saved:
                print_table("saved queries", ["name", "description"],
                            [(q.name, q.description) for q in named.values()])
                return
            assert saved is not None
            if saved not in named:
                raise CLIError(f"no saved query {saved!r} in {queries} (have: "
                               f"{', '.join(named)})", ExitCode.NOT_FOUND)
            result = search.run_saved(named[saved])
            if as_json:
                echo_json(result)
                return
            _print_lines([h["_source"] for h in result["hits"]["hits"]], saved)
            for name, agg in (result.get("aggregations") or {}).items():
                print_table(name, ["key", "count"],
                            [(b.get("key_as_string", b["key"]), b["doc_count"])
                             for b in agg.get("buckets", [])])
            return
        assert trace_id is not None
        lines = search.by_trace(trace_id)
    except LogSearchError as exc:
        raise CLIError(str(exc), ExitCode.USAGE) from exc
    except LogStoreUnavailableError as exc:
        raise CLIError(str(exc), ExitCode.UNAVAILABLE) from exc
    if not lines:
        raise CLIError(f"no log lines for trace {trace_id}", ExitCode.NOT_FOUND)
    if as_json:
        echo_json(lines)
    else:
        _print_lines(lines, f"trace {trace_id}")


def _print_lines(lines: list[dict[str, Any]], title: str) -> None:
    print_table(title, ["time", "service", "level", "span", "message"],
                [(x.get("@timestamp", ""), x.get("service", ""), x.get("level", ""),
                  x.get("span_id", ""), x.get("message", x.get("raw", ""))) for x in lines])


# --------------------------------------------------------------------------- SLOs


@cli.group(name="slo", cls=AppGroup)
def slo_group() -> None:
    """SLOs from a Sloth-style spec: rules, alerts, promtool tests, reports."""


@slo_group.command("generate")
@click.argument("spec_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              default=Path("deploy/prometheus/slo"), show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if the files on disk differ.")
def slo_generate(spec_path: Path, out: Path, check: bool) -> None:
    """Write recording rules, multiwindow multi-burn-rate alerts and promtool tests.

    \b
    Examples:
      obsstack slo generate deploy/slo/slos.yaml --out deploy/prometheus/slo
      promtool test rules deploy/prometheus/slo/tests/*.yml
    """
    from obsstack import slo
    from obsstack.render import stale_files, write_all

    try:
        spec = slo.load_spec(spec_path)
    except slo.SloSpecError as exc:
        raise CLIError(f"{spec_path}: {exc}", ExitCode.CONFIG) from exc
    files = slo.render(spec)
    if check:
        stale = stale_files(files, out)
        if stale:
            raise CLIError(f"stale SLO files in {out}: {', '.join(stale)}", ExitCode.FAILURE)
        click.echo(f"{len(files)} files up to date")
        return
    changed = write_all(files, out)
    windows = ", ".join(f"{w.severity} {w.factor:g}x {slo.format_duration(w.long_s)}/"
                        f"{slo.format_duration(w.short_s)}" for w in spec.windows)
    click.echo(f"{len(spec.slos)} SLO(s), period {slo.format_duration(spec.period_s)} "
               f"({windows}): {len(changed)} of {len(files)} files written to {out}")


@slo_group.command("report")
@click.argument("spec_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--prometheus-url", default=None, help="Default from settings.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--fail-on-exhausted", is_flag=True, help="Exit 1 if a budget is used up.")
@config_option
def slo_report(spec_path: Path, prometheus_url: str | None, as_json: bool,
               fail_on_exhausted: bool, config: Path | None) -> None:
    """Attainment, error budget and burn rate of every SLO, from Prometheus' API.

    \b
    Example:
      obsstack slo report deploy/slo/slos.yaml --prometheus-url http://127.0.0.1:9090
    """
    from obsstack import slo
    from obsstack.slo_report import PrometheusUnavailableError, report

    try:
        spec = slo.load_spec(spec_path)
    except slo.SloSpecError as exc:
        raise CLIError(f"{spec_path}: {exc}", ExitCode.CONFIG) from exc
    url = prometheus_url or _settings(config).prometheus_url
    try:
        rows = report(spec, url)
    except PrometheusUnavailableError as exc:
        raise CLIError(str(exc), ExitCode.UNAVAILABLE) from exc
    if as_json:
        echo_json([r.as_dict() for r in rows])
    else:
        print_table(f"SLOs of {spec.service}", [
            "slo", "objective", "attainment", "budget left", "burn rate", "alerts"],
            [r.cells() for r in rows])
    if fail_on_exhausted and any(r.budget_remaining is not None and r.budget_remaining <= 0
                                 for r in rows):
        raise CLIError("an error budget is exhausted", ExitCode.FAILURE)


# --------------------------------------------------------------------------- config as code


@cli.command()
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              default=Path("deploy"), show_default=True)
@click.option("--spec", "spec_path", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("deploy/slo/slos.yaml"), show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if a committed file differs.")
def render(out: Path, spec_path: Path, check: bool) -> None:
    """Render every production file (rules, SLOs, Alertmanager, dashboards, Kubernetes,
    Collector, Fluent Bit, Tempo, Jaeger, Fluentd, Kibana) into deploy/.

    \b
    Example:
      obsstack render --check
    """
    from obsstack import render as rendering
    from obsstack import slo
    from obsstack.logsearch import DEFAULT_SAVED_QUERIES

    try:
        spec = slo.load_spec(spec_path)
    except slo.SloSpecError as exc:
        raise CLIError(f"{spec_path}: {exc}", ExitCode.CONFIG) from exc
    files = rendering.render_all(spec, DEFAULT_SAVED_QUERIES)
    if check:
        stale = rendering.stale_files(files, out)
        if stale:
            raise CLIError(f"{len(stale)} stale file(s) in {out}: {', '.join(stale[:5])} "
                           "(run obsstack render)", ExitCode.FAILURE)
        click.echo(f"{len(files)} files up to date")
        return
    changed = rendering.write_all(files, out)
    click.echo(f"{len(changed)} of {len(files)} files written to {out}")


@cli.command("lint-dashboards")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False, exists=True))
def lint_dashboards(files: tuple[Path, ...]) -> None:
    """Lint dashboard JSON files (datasource variables, titles, units, rate intervals...).

    \b
    Example:
      obsstack lint-dashboards deploy/grafana/dashboards/*.json
    """
    from obsstack.dashboards import lint

    problems = []
    for path in files:
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            raise CLIError(f"{path}: not JSON ({exc})", ExitCode.CONFIG) from exc
        problems += lint(data)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise CLIError(f"{len(problems)} problem(s)", ExitCode.FAILURE)
    click.echo(f"{len(files)} dashboard(s) clean")


@cli.group(cls=AppGroup)
def stack() -> None:
    """The whole stack on loopback (what `make run` starts)."""


@stack.command("up")
@click.option("--spec", "spec_path", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("deploy/slo/slos.yaml"), show_default=True)
@click.option("--work-dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("data/stack"), show_default=True)
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@click.option("--errors-after", type=click.FloatRange(0), default=10, show_default=True)
@click.option("--timeout", type=click.FloatRange(10), default=180, show_default=True)
def stack_up(spec_path: Path, work_dir: Path, error_rate: float, errors_after: float,
             timeout: float) -> None:
    """Start everything, inject errors, print the SLO page, its exemplar trace and that
    trace's logs, then stop.

    \b
    Example:
      obsstack stack up --error-rate 0.6 --errors-after 5
    """
    import shutil

    from obsstack import slo
    from obsstack.stack import run_demo

    try:
        spec = slo.load_spec(spec_path)
    except slo.SloSpecError as exc:
        raise CLIError(f"{spec_path}: {exc}", ExitCode.CONFIG) from exc
    shutil.rmtree(work_dir, ignore_errors=True)
    result = run_demo(spec, work_dir.resolve(), error_rate=error_rate,
                      errors_after=errors_after, timeout=timeout, say=click.echo)
    if result.alert is None:
        raise CLIError("the SLO page did not fire in time", ExitCode.FAILURE)
    labels = result.alert["labels"]
    click.echo(f"\nALERT {labels.get('alertname')} severity={labels.get('severity')} "
               f"slo={labels.get('slo')}: {result.alert['annotations'].get('summary')}")
    if result.exemplar is None:
        raise CLIError("no exemplar trace found for the alerting period", ExitCode.FAILURE)
    trace_id = result.exemplar["trace_id"]
    click.echo(f"exemplar on the gateway latency histogram: trace {trace_id} "
               f"({result.exemplar['value'] * 1000:.1f} ms)")
    print_table(f"trace {trace_id}", ["span", "kind", "status", "ms", "parent"],
                [(s.name, s.kind, s.status_code, f"{s.duration_ms:.1f}",
                  s.parent_span_id or "-") for s in result.spans])
    _print_lines(result.logs, f"logs of trace {trace_id}")


main = cli
