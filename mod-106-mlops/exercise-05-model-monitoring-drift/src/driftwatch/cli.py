"""Command line for driftwatch: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd
from aiinfra_shared.cli import AppGroup, CLIError, echo_json, expected_errors, print_table
from aiinfra_shared.cli import progress_bar as progress
from aiinfra_shared.io import atomic_write_text

from driftwatch import __version__
from driftwatch.config import Settings
from driftwatch.errors import DriftwatchError, Exit, InsufficientDataError

handled = expected_errors(DriftwatchError)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


def _as_of(value: str | None) -> pd.Timestamp:
    if value is None:
        return pd.Timestamp.now(tz="UTC")
    try:
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise CLIError(f"--as-of: {value!r} is not a timestamp", Exit.CONFIG) from exc
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


@click.group(cls=AppGroup, epilog="""\b
Examples:
  driftwatch simulate --out data/
  driftwatch reference build --training data/training.parquet --contract data/contract.yaml
  driftwatch run --predictions data/predictions.jsonl --labels data/labels.jsonl
  driftwatch decide            # retrain? triggers mlw_train_<model> in Airflow
  driftwatch report            # one row per window
  driftwatch ui                # Evidently UI over the local workspace
""")
@click.version_option(__version__, prog_name="driftwatch")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              envvar="DRIFTWATCH_CONFIG", help="YAML/TOML settings file (env DRIFTWATCH_*).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Is the model still good, and should we retrain? Batch drift and performance
    monitoring of a binary classifier, window by window, with Evidently."""
    ctx.ensure_object(dict)
    ctx.obj["settings"] = Settings.load(config_file)
    ctx.obj["settings_file"] = config_file


main = cli


# ---------------------------------------------------------------- simulate
@cli.command()
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder for training.parquet, predictions.jsonl, labels.jsonl, contract.yaml.")
@click.option("--days", type=click.IntRange(1, 60), default=7, show_default=True)
@click.option("--rows-per-day", type=click.IntRange(10, 1_000_000), default=1500,
              show_default=True)
@click.option("--drift", "drifts", multiple=True, metavar="DAY:KIND[:STRENGTH]",
              help="Plant drift from DAY on (kinds: covariate [shifts income, age], prior, "
                   "concept, missing [income]). "
                   "Default: the demo week (covariate from day 4, concept from day 6).")
@click.option("--label-delay-hours", type=float, default=36, show_default=True)
@click.option("--label-share", type=click.FloatRange(0, 1), default=0.9, show_default=True)
@click.option("--end", "end", default=None, help="End of the simulated period [today 00:00 UTC].")
@click.option("--seed", type=int, default=7, show_default=True)
@handled
def simulate(out: Path, days: int, rows_per_day: int, drifts: tuple[str, ...],
             label_delay_hours: float, label_share: float, end: str | None, seed: int) -> None:
    """Write synthetic training data and a prediction log with planted drift.

    \b
    Examples:
      driftwatch simulate --out data/
      driftwatch simulate --out data/ --days 10 --drift 5:covariate:0.8 --drift 8:concept
    """
    from datetime import timedelta

    from driftwatch.adapters.files import write_table
    from driftwatch.simulate import DRIFT_KINDS, DayPlan, Drift, Simulator, traffic, week_plan

    sim = Simulator(seed=seed)
    if drifts:
        plan = [DayPlan(rows_per_day) for _ in range(days)]
        for item in drifts:
            parts = item.split(":")
            try:
                day, kind = int(parts[0]), parts[1]
                strength = float(parts[2]) if len(parts) > 2 else {"prior": 0.7,
                                                                  "missing": 0.3}.get(kind, 1.0)
            except (IndexError, ValueError) as exc:
                raise CLIError(f"--drift {item!r}: expected DAY:KIND[:STRENGTH]",
                               Exit.CONFIG) from exc
            if kind not in DRIFT_KINDS or not 1 <= day <= days:
                raise CLIError(f"--drift {item!r}: kind must be one of {DRIFT_KINDS[1:]} and "
                               f"day within 1..{days}", Exit.CONFIG)
            for index in range(day - 1, days):
                plan[index] = DayPlan(rows_per_day, Drift(kind, strength))
    else:
        plan = week_plan(rows_per_day)[:days] + [DayPlan(rows_per_day)] * max(0, days - 7)
    end_ts = _as_of(end).floor("1D") if end else pd.Timestamp.now(tz="UTC").floor("1D")
    start = end_ts - pd.Timedelta(days=len(plan))
    training = sim.sample(max(rows_per_day * 3, 3000))
    training.insert(0, "timestamp", start - pd.Timedelta(days=30))
    training.insert(0, "prediction_id", [f"t{i:07d}" for i in range(len(training))])
    predictions, labels = traffic(sim, plan, start.to_pydatetime(),
                                  timedelta(hours=label_delay_hours), label_share)
    write_table(training, out / "training.parquet")
    write_table(predictions, out / "predictions.jsonl")
    write_table(labels, out / "labels.jsonl")
    atomic_write_text(out / "contract.yaml", sim.contract().to_yaml())
    click.echo(f"wrote {len(training)} training rows, {len(predictions)} predictions over "
               f"{len(plan)} days and {len(labels)} labels to {out}")


# ---------------------------------------------------------------- reference
@cli.group()
def reference() -> None:
    """Build and inspect the reference profile (data contract + training statistics)."""


@reference.command("build")
@click.option("--training", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Training data with features, probability, prediction and label.")
@click.option("--contract", "contract_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Data contract YAML [settings contract_file, else the demo contract].")
@click.pass_context
@handled
def reference_build(ctx: click.Context, training: Path, contract_file: Path | None) -> None:
    """Profile training data into <home>/reference, identified by a content hash.

    \b
    Example:
      driftwatch reference build --training data/training.parquet --contract data/contract.yaml
    """
    from driftwatch.adapters.files import read_table
    from driftwatch.contract import DataContract
    from driftwatch.reference import build_reference
    from driftwatch.simulate import Simulator
    from driftwatch.store import Store

    settings = _settings(ctx)
    path = contract_file or settings.contract_file
    contract = DataContract.load(path) if path else Simulator().contract()
    profile = build_reference(read_table(training), contract)
    where = Store(settings.home).save_reference(profile)
    click.echo(f"reference {profile.content_hash} ({len(profile.data)} rows, "
               f"accuracy {profile.performance['accuracy']:.3f}) -> {where}")


@reference.command("show")
@click.pass_context
@handled
def reference_show(ctx: click.Context) -> None:
    """Print the stored reference's hash, size and performance."""
    from driftwatch.store import Store

    profile = Store(_settings(ctx).home).load_reference()
    echo_json({"content_hash": profile.content_hash, "rows": len(profile.data),
               "features": list(profile.contract.features),
               "performance": profile.performance})


# ---------------------------------------------------------------- run / backfill
def _monitor(ctx: click.Context, predictions: Path, labels: Path | None, as_of: str | None,
             start: str | None, end: str | None, recompute: bool, as_json: bool) -> None:
    from driftwatch import pipeline
    from driftwatch.adapters.files import read_table
    from driftwatch.store import Store

    settings = _settings(ctx)
    store = Store(settings.home)
    profile = store.load_reference()
    when = _as_of(as_of)
    windows = pipeline.prepare_windows(read_table(predictions),
                                       read_table(labels) if labels else None, profile,
                                       settings, when)
    if start:
        windows = [w for w in windows if w.start >= _as_of(start)]
    if end:
        windows = [w for w in windows if w.start < _as_of(end)]
    if not windows:
        raise InsufficientDataError("no window in range: insufficient data")
    with progress("Analysing windows", total=len(windows)) as advance:
        summary = pipeline.process(windows, profile, settings, store, when,
                                   recompute=recompute, progress=advance)
    if as_json:
        echo_json({"results": [r.as_dict() for r in summary.results],
                   "skipped": summary.skipped, "html": summary.html,
                   "pushed": summary.pushed})
    else:
        _results_table(summary.results)
        if summary.skipped:
            click.echo(f"{len(summary.skipped)} window(s) already final, skipped")
        if summary.pushed:
            click.echo(f"pushed the latest window to {settings.pushgateway_url}")
    latest = windows[-1]
    if latest.rows < settings.windows.min_rows:
        raise InsufficientDataError(f"window {latest.id}: {latest.rows} rows < min_rows "
                                    f"{settings.windows.min_rows}: insufficient data")


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _results_table(results: list[Any]) -> None:
    rows = []
    for r in results:
        rows.append([r.window_id, r.rows, r.status, _fmt(r.drifted_share, 2),
                     ", ".join(r.drifted_columns) or "-",
                     _fmt((r.domain_classifier or {}).get("auc")),
                     _fmt((r.estimated or {}).get("accuracy")),
                     _fmt((r.realized or {}).get("accuracy")), f"{r.label_coverage:.0%}"])
    print_table("driftwatch windows", ["window", "rows", "status", "drift share",
                                       "drifted columns", "domain AUC", "est. acc",
                                       "real acc", "labels"], rows)


_log_options = [
    click.option("--predictions", type=click.Path(path_type=Path, dir_okay=False),
                 required=True, help="Prediction log (.jsonl or .parquet)."),
    click.option("--labels", type=click.Path(path_type=Path, dir_okay=False),
                 help="Delayed labels: prediction_id, label, label_timestamp."),
    click.option("--as-of", help="Evaluation time (labels known by then) [now]."),
    click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
]


def _with_log_options(fn: Any) -> Any:
    for option in reversed(_log_options):
        fn = option(fn)
    return fn


@cli.command()
@_with_log_options
@click.pass_context
@handled
def run(ctx: click.Context, predictions: Path, labels: Path | None, as_of: str | None,
        as_json: bool) -> None:
    """Analyse new windows (and ones still in their label grace period); push metrics.

    \b
    Example:
      driftwatch run --predictions data/predictions.jsonl --labels data/labels.jsonl
    """
    _monitor(ctx, predictions, labels, as_of, None, None, False, as_json)


@cli.command()
@_with_log_options
@click.option("--from", "start", help="First window start to recompute (inclusive).")
@click.option("--to", "end", help="Recompute windows starting before this.")
@click.pass_context
@handled
def backfill(ctx: click.Context, predictions: Path, labels: Path | None, as_of: str | None,
             as_json: bool, start: str | None, end: str | None) -> None:
    """Recompute windows in a range (late labels, a new reference), final ones included.

    \b
    Example:
      driftwatch backfill --predictions log.parquet --labels labels.jsonl --from 2026-11-20
    """
    _monitor(ctx, predictions, labels, as_of, start, end, True, as_json)


# ---------------------------------------------------------------- decide
@cli.command()
@click.option("--dry-run", is_flag=True, help="Decide and log, but trigger nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def decide(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Apply the policy to the window history; trigger retraining in Airflow if it says so.

    Safe to repeat: the decision id is the DAG run id, so a retry never starts a second run.

    \b
    Example:
      DRIFTWATCH_AIRFLOW__URL=http://127.0.0.1:8080 driftwatch decide
    """
    from driftwatch.policy import Policy
    from driftwatch.policy import decide as judge
    from driftwatch.retrain import execute
    from driftwatch.store import Store

    settings = _settings(ctx)
    store = Store(settings.home)
    decision = judge(store.results(settings.model), Policy.load(settings.policy_file),
                     store.decisions())
    decision = execute(decision, settings, store, dry_run=dry_run)
    if as_json:
        echo_json(decision.as_dict())
        return
    click.echo(f"decision {decision.id} at window {decision.window_id}: {decision.action}")
    for reason in decision.reasons:
        click.echo(f"  - {reason}")
    if decision.dag_run_id:
        click.echo(f"  airflow: {decision.dag_id} run {decision.dag_run_id} "
                   f"({decision.airflow})")


# ---------------------------------------------------------------- report
@cli.command()
@click.option("--window", "window_id", help="Show one window in detail.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handled
def report(ctx: click.Context, window_id: str | None, as_json: bool) -> None:
    """Window history, decisions and where the HTML reports are."""
    from driftwatch.errors import NotFoundError
    from driftwatch.store import Store

    settings = _settings(ctx)
    store = Store(settings.home)
    results = store.results(settings.model)
    if window_id:
        match = [r for r in results if r.window_id == window_id]
        if not match:
            raise NotFoundError(f"no result for window {window_id!r} of {settings.model}")
        echo_json(match[0].as_dict())
        return
    decisions = store.decisions()
    if as_json:
        echo_json({"windows": [r.as_dict() for r in results],
                   "decisions": [d.as_dict() for d in decisions]})
        return
    _results_table(results)
    if decisions:
        print_table("decisions", ["window", "action", "triggered", "airflow", "reasons"],
                    [[d.window_id, d.action, d.triggered, d.airflow or "-",
                      "; ".join(r.split(":")[0] for r in d.reasons) or "-"]
                     for d in decisions])
    reports = store.home / "reports"
    if reports.is_dir():
        click.echo(f"HTML reports: {reports}/<window>/drift.html, classification.html")


# ---------------------------------------------------------------- render / ui
@cli.command()
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              default=Path("deploy"), show_default=True)
@click.pass_context
@handled
def render(ctx: click.Context, out: Path) -> None:
    """Write alert rules, Alertmanager routes and the Grafana dashboard from the policy."""
    from driftwatch import dashboards, rules
    from driftwatch.policy import Policy

    settings = _settings(ctx)
    policy = Policy.load(settings.policy_file)
    atomic_write_text(out / "prometheus" / "alerts.yml",
                      rules.dump(rules.alert_rules(
                          policy, min_coverage=settings.min_label_coverage)))
    atomic_write_text(out / "alertmanager" / "alertmanager.yml",
                      rules.dump(rules.alertmanager_config()))
    atomic_write_text(out / "grafana" / "driftwatch.json",
                      json.dumps(dashboards.build(), indent=2) + "\n")
    click.echo(f"rendered alerts, routes and dashboard under {out}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.pass_context
def ui(ctx: click.Context, host: str, port: int) -> None:
    """Serve the local Evidently workspace with `evidently ui` (Ctrl-C stops it)."""
    settings = _settings(ctx)
    exe = Path(sys.executable).parent / "evidently"
    command = [str(exe), "ui", "--workspace", str(settings.home / "workspace"),
               "--host", host, "--port", str(port)]
    if settings.evidently.ui_secret:
        command += ["--secret", settings.evidently.ui_secret.get_secret_value()]
    click.echo(f"Evidently UI on http://{host}:{port} (workspace {settings.home / 'workspace'})")
    os.execv(command[0], command)  # noqa: S606 - replace this process by the UI server


@cli.command()
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              default=Path(".driftwatch-demo"), show_default=True)
@click.pass_context
@handled
def demo(ctx: click.Context, out: Path) -> None:
    """The whole loop on a simulated week: drift, late labels, snapshots, metrics, retrain."""
    from driftwatch.demo import run_demo

    run_demo(out, ctx, cli)
