"""Command line for streamml: parse, call the stages, render. No logic lives here."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, expected_errors, print_table
from aiinfra_shared.io import atomic_write_text

from streamml import __version__
from streamml.errors import StreamError

HANDLED = (StreamError,)


def _settings(ctx: click.Context) -> Any:
    from streamml.config import Settings

    obj = ctx.find_root().obj
    if "settings" not in obj:
        obj["settings"] = Settings.load(obj.get("config"))
    return obj["settings"]


@click.group(cls=AppGroup, epilog="""\b
Examples:
  streamml pipeline up                      # everything on loopback, end to end
  streamml registry --port 8081 &           # the Schema Registry stand-in
  streamml topics create
  streamml produce --events 5000 --late 20 --duplicates 30 --poison 5 --unknown-schema 5
  streamml validate --until-idle 5          # quality checks -> events.valid / events.dlq
  streamml features                         # Spark: windows -> S3 Parquet, PostgreSQL, topic
  streamml train && streamml score --until-idle 5
  streamml lag --group streamml-validate --topic events.raw
""")
@click.version_option(__version__, prog_name="streamml")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              envvar="STREAMML_CONFIG",
              help="YAML/TOML config file (env vars STREAMML_* override it).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Streaming ML pipeline: Kafka + Avro, quality checks, Spark windowed features,
    exactly-once scoring.

    Exit codes: 0 ok, 1 failure, 2 usage, 3 config, 4 not found (topic, schema, model),
    5 unavailable (broker, registry, database), 6 conflict (incompatible schema, fenced
    instance), 70 internal.
    """
    ctx.obj = {"config": config_file}


# ----------------------------------------------------------------------------- registry
@cli.command(epilog="""\b
Examples:
  streamml registry --port 8081 --data-file .run/registry.json
  curl -s localhost:8081/subjects
""")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=click.IntRange(1, 65535))
@click.option("--data-file", type=click.Path(path_type=Path), default=None,
              help="Persist schemas here (JSON) so ids survive restarts.")
@click.option("--compatibility", default="BACKWARD", show_default=True,
              type=click.Choice(["NONE", "BACKWARD", "FORWARD", "FULL"]))
def registry(host: str, port: int, data_file: Path | None, compatibility: str) -> None:
    """Serve the Schema Registry REST subset confluent-kafka's client uses."""
    import uvicorn

    from streamml.registry import SchemaStore, create_app

    store = SchemaStore.open(data_file, compatibility)
    click.echo(f"schema registry on http://{host}:{port} ({compatibility})", err=True)
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")


@cli.group()
def schema() -> None:
    """Register or check a schema against the registry."""


def _schema_text(schema_file: Path | None) -> str:
    from streamml.avro_schema import event_schema_str

    if schema_file is None:
        return event_schema_str()
    try:
        text = schema_file.read_text()
        json.loads(text)
    except OSError as exc:
        raise CLIError(f"{schema_file}: cannot read ({exc.strerror})", ExitCode.NOT_FOUND
                       ) from exc
    except ValueError as exc:
        raise CLIError(f"{schema_file}: not JSON ({exc})", ExitCode.CONFIG) from exc
    return text


@schema.command("register", epilog="""\b
Examples:
  streamml schema register                          # the built-in event schema
  streamml schema register --file v2.avsc --subject events.raw-value
""")
@click.option("--file", "schema_file", type=click.Path(path_type=Path), default=None)
@click.option("--subject", default=None, help="Default: <events topic>-value.")
@click.pass_context
@expected_errors(*HANDLED)
def schema_register(ctx: click.Context, schema_file: Path | None, subject: str | None) -> None:
    """Register a schema version (exit 6 when incompatible, 3 when invalid)."""
    from streamml.adapters.serde import register, registry_client, subject_for

    s = _settings(ctx)
    subject = subject or subject_for(s.kafka.events_topic)
    schema_id = register(registry_client(s.kafka.schema_registry_url), subject,
                         _schema_text(schema_file))
    click.echo(f"registered {subject}: schema id {schema_id}")


# ----------------------------------------------------------------------------- topics
@cli.group()
def topics() -> None:
    """Create the pipeline's topics."""


@topics.command("create")
@click.pass_context
@expected_errors(*HANDLED)
def topics_create(ctx: click.Context) -> None:
    """Create every topic the pipeline uses (existing ones are kept)."""
    from streamml import stages

    for name in stages.create_topics(_settings(ctx)):
        click.echo(name)


# ----------------------------------------------------------------------------- produce
@cli.command(epilog="""\b
Examples:
  streamml produce --events 1000
  streamml produce --events 5000 --users 50 --late 20 --out-of-order 100 --duplicates 30 \\
      --poison 5 --unknown-schema 5 --invalid 10
""")
@click.option("--events", default=1000, show_default=True, type=click.IntRange(0))
@click.option("--users", default=20, show_default=True, type=click.IntRange(1))
@click.option("--spacing-ms", default=500, show_default=True, type=click.IntRange(1))
@click.option("--start-ms", type=int, default=None,
              help="event_time of the first event (default: so the last one is now).")
@click.option("--late", default=0, type=click.IntRange(0), help="events far behind the stream")
@click.option("--out-of-order", default=0, type=click.IntRange(0), help="swapped neighbours")
@click.option("--duplicates", default=0, type=click.IntRange(0), help="events sent twice")
@click.option("--poison", default=0, type=click.IntRange(0), help="undecodable bytes")
@click.option("--unknown-schema", default=0, type=click.IntRange(0),
              help="framed with an unregistered schema id")
@click.option("--invalid", default=0, type=click.IntRange(0), help="rule-breaking events")
@click.option("--seed", default=7, show_default=True, type=int)
@click.pass_context
@expected_errors(*HANDLED)
def produce(ctx: click.Context, events: int, users: int, spacing_ms: int, start_ms: int | None,
            late: int, out_of_order: int, duplicates: int, poison: int, unknown_schema: int,
            invalid: int, seed: int) -> None:
    """Send synthetic events keyed by user (idempotent producer), defects on demand."""
    from aiinfra_shared.cli import progress_bar

    from streamml import stages
    from streamml.events import EventPlan

    if start_ms is None:
        start_ms = int(time.time() * 1000) - events * spacing_ms
    plan = EventPlan(events=events, users=users, start_ms=start_ms, spacing_ms=spacing_ms,
                     late=late, out_of_order=out_of_order, duplicates=duplicates,
                     poison=poison, unknown_schema=unknown_schema, invalid=invalid, seed=seed)
    total = events + late + duplicates + poison + unknown_schema + invalid
    with progress_bar("Producing", total=total) as advance:
        counts = stages.produce_events(_settings(ctx), plan, advance)
    print_table("produced", ["kind", "messages"], sorted(counts.items()))


# ----------------------------------------------------------------------------- stages
def _serve_metrics(port: int | None) -> None:
    if port:
        from streamml.metrics import serve_metrics

        serve_metrics(port)


@cli.command(epilog="""\b
Examples:
  streamml validate --until-idle 5
  streamml validate --metrics-port 9300          # runs until SIGTERM
""")
@click.option("--until-idle", type=float, default=None,
              help="Stop after this many seconds without input (default: run until SIGTERM).")
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(*HANDLED)
def validate(ctx: click.Context, until_idle: float | None, metrics_port: int | None,
             as_json: bool) -> None:
    """Quality stage: decode, rules, dedup; bad records to the DLQ; counts per rule."""
    from streamml import stages

    _serve_metrics(metrics_port)
    result = stages.run_validate(_settings(ctx), idle_exit=until_idle)
    payload = {"records_in": result.stats.records_in, "records_out": result.stats.records_out,
               "transactions": result.stats.transactions, "counts": dict(result.counts),
               "stopped_by": result.stats.stopped_by}
    if as_json:
        echo_json(payload)
        return
    print_table("quality checks", ["rule / reason", "records"], sorted(result.counts.items()))
    click.echo(f"{payload['records_in']} in, {payload['records_out']} out in "
               f"{payload['transactions']} transactions (stopped by {payload['stopped_by']})")


@cli.command(epilog="""\b
Examples:
  streamml features                       # until caught up (Trigger.AvailableNow)
  streamml features --continuous          # every 5 s until Ctrl-C
  STREAMML_SPARK__SLIDE_SECONDS=30 streamml features   # sliding windows
""")
@click.option("--continuous", is_flag=True, help="Keep running (processing-time trigger).")
@click.option("--crash-after-batch", type=click.IntRange(0), default=None,
              help="Crash drill: stop after the sinks wrote this batch, before Spark "
                   "commits it (the next run replays it).")
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None)
@click.pass_context
@expected_errors(*HANDLED, RuntimeError)
def features(ctx: click.Context, continuous: bool, crash_after_batch: int | None,
             metrics_port: int | None) -> None:
    """Spark: windowed per-user features to S3 Parquet, PostgreSQL and the features topic."""
    from streamml import stages

    _serve_metrics(metrics_port)
    progress = stages.run_features(_settings(ctx), available_now=not continuous,
                                   crash_after_batch=crash_after_batch)
    print_table("micro-batches", ["batch", "input rows", "late rows dropped", "rows/s"],
                [(p["batch_id"], p["input_rows"], p["late_rows"],
                  f"{p['rows_per_second']:.0f}") for p in progress])


@cli.command(epilog="""\b
Examples:
  streamml train
  STREAMML_SCORING__MODEL_PATH=models/m.joblib streamml train
""")
@click.pass_context
@expected_errors(*HANDLED)
def train(ctx: click.Context) -> None:
    """Fit the propensity model on the Parquet features in S3."""
    from streamml import stages

    card = stages.run_train(_settings(ctx))
    click.echo(f"model {card.version}: {card.rows} windows, {card.positives} positive, "
               f"AUC {card.auc} -> {_settings(ctx).scoring.model_path}")


@cli.command(epilog="""\b
Examples:
  streamml score --until-idle 5
  STREAMML_SCORING__INSTANCE_ID=score-1 streamml score --metrics-port 9301
""")
@click.option("--until-idle", type=float, default=None,
              help="Stop after this many seconds without input (default: run until SIGTERM).")
@click.option("--at-least-once", is_flag=True,
              help="No transactions: commit offsets after flushing (for comparison).")
@click.option("--fault-pause-after", type=click.IntRange(1), default=None,
              help="Crash drill: hang inside the open transaction after N records.")
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None)
@click.pass_context
@expected_errors(*HANDLED)
def score(ctx: click.Context, until_idle: float | None, at_least_once: bool,
          fault_pause_after: int | None, metrics_port: int | None) -> None:
    """Score events with the latest features, exactly once (transactions)."""
    from streamml import stages

    _serve_metrics(metrics_port)
    stats = stages.run_score(_settings(ctx), idle_exit=until_idle,
                             exactly_once=not at_least_once,
                             fault_pause_after=fault_pause_after)
    click.echo(f"scored {stats.records_out} events in {stats.transactions} transactions "
               f"(stopped by {stats.stopped_by})")


@cli.command(epilog="""\b
Examples:
  streamml lag --group streamml-validate --topic events.raw
""")
@click.option("--group", required=True)
@click.option("--topic", required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@expected_errors(*HANDLED)
def lag(ctx: click.Context, group: str, topic: str, as_json: bool) -> None:
    """Consumer lag per partition (produced but not yet consumed)."""
    from streamml.adapters import kafka

    s = _settings(ctx)
    kafka.require_topics(s.kafka.bootstrap_servers, [topic], s.kafka.broker_timeout_seconds)
    values = kafka.group_lag(s.kafka.bootstrap_servers, group, topic)
    if as_json:
        echo_json({"group": group, "topic": topic, "lag": values,
                   "total": sum(values.values())})
        return
    print_table(f"lag of {group} on {topic}", ["partition", "lag"], sorted(values.items()))


@cli.command(epilog="""\b
Examples:
  streamml exporter --port 9303 --target streamml-validate:events.raw
""")
@click.option("--port", default=9303, show_default=True, type=click.IntRange(1, 65535))
@click.option("--target", "targets", multiple=True,
              help="group:topic (default: the validate and score groups).")
@click.pass_context
@expected_errors(*HANDLED)
def exporter(ctx: click.Context, port: int, targets: tuple[str, ...]) -> None:
    """Serve consumer lag per partition as Prometheus metrics until Ctrl-C."""
    from prometheus_client import REGISTRY

    from streamml.adapters.kafka import wait_for_broker
    from streamml.metrics import LagCollector, LagTarget, serve_metrics

    s = _settings(ctx)
    wait_for_broker(s.kafka.bootstrap_servers, s.kafka.broker_timeout_seconds)
    parsed = []
    for item in targets or (f"{s.quality.group_id}:{s.kafka.events_topic}",
                            f"{s.scoring.group_id}:{s.kafka.valid_topic}"):
        group, sep, topic = item.partition(":")
        if not sep or not group or not topic:
            raise CLIError(f"--target {item!r}: expected group:topic", ExitCode.USAGE)
        parsed.append(LagTarget(group, topic))
    REGISTRY.register(LagCollector(s.kafka.bootstrap_servers, parsed))
    serve_metrics(port)
    click.echo(f"lag exporter on http://127.0.0.1:{port}/metrics", err=True)
    while True:
        time.sleep(3600)


@cli.command(epilog="""\b
Examples:
  streamml render --out deploy          # rules, Alertmanager config, dashboard
  streamml render --out deploy --check  # exit 1 if the committed files are stale
""")
@click.option("--out", type=click.Path(path_type=Path), default=Path("deploy"),
              show_default=True)
@click.option("--check", is_flag=True)
def render(out: Path, check: bool) -> None:
    """Write the generated monitoring files (Prometheus, Alertmanager, Grafana)."""
    from streamml.monitoring import render_files

    stale = []
    for name, text in render_files().items():
        path = out / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
            continue
        atomic_write_text(path, text)
        click.echo(str(path))
    if stale:
        raise CLIError(f"stale generated files: {', '.join(stale)} (run streamml render)")


# ----------------------------------------------------------------------------- pipeline
@cli.group()
def pipeline() -> None:
    """Run the whole pipeline locally."""


@pipeline.command("up", epilog="""\b
Examples:
  streamml pipeline up                   # run end to end, keep the servers up until Ctrl-C
  streamml pipeline up --hold 0          # run end to end and exit
  streamml pipeline up --events 3000 --work-dir .run/pipeline
""")
@click.option("--events", default=1500, show_default=True, type=click.IntRange(10))
@click.option("--hold", type=float, default=None,
              help="Keep the servers up this many seconds after the run (default: until "
                   "Ctrl-C).")
@click.option("--work-dir", type=click.Path(path_type=Path), default=None)
@expected_errors(*HANDLED, RuntimeError)
def pipeline_up(events: int, hold: float | None, work_dir: Path | None) -> None:
    """Start broker, S3, PostgreSQL and registry; run every stage; print where to look."""
    from streamml.events import EventPlan
    from streamml.pipeline import local_stack, run_once

    spacing = 500
    plan = EventPlan(events=events, users=25, spacing_ms=spacing,
                     start_ms=int(time.time() * 1000) - events * spacing, late=15,
                     out_of_order=40, duplicates=20, poison=5, unknown_schema=5, invalid=10)
    with local_stack(work_dir, log=lambda m: click.echo(m, err=True)) as stack:
        report = run_once(stack, plan, log=lambda m: click.echo(m, err=True))
        k, sk = stack.settings.kafka, stack.settings.sinks
        print_table("streamml pipeline", ["what", "where / result"], [
            *stack.servers.items(),
            ("produced", _counts(report.produced)),
            ("quality", _counts(report.validate["counts"])),
            ("topics", f"{k.valid_topic}, {k.dlq_topic}, {k.features_topic}, "
                       f"{k.predictions_topic}"),
            ("Spark batches", f"{len(report.spark_batches)} "
                              f"({sum(b['input_rows'] for b in report.spark_batches)} rows, "
                              f"{sum(b['late_rows'] for b in report.spark_batches)} late)"),
            ("training Parquet", f"s3://{sk.s3_bucket}/{sk.s3_prefix}/date=*/"),
            ("serving table", f"{sk.features_table} in PostgreSQL"),
            ("model", f"{report.model['version']} (AUC {report.model['auc']}, "
                      f"{report.model['rows']} windows) at {stack.settings.scoring.model_path}"),
            ("predictions", f"{report.scored} events scored, exactly once"),
            ("stage seconds", ", ".join(f"{n} {v}" for n, v in report.seconds.items())),
        ])
        if hold is None:
            click.echo("servers stay up; Ctrl-C stops them", err=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        elif hold > 0:
            time.sleep(hold)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))


main = cli
