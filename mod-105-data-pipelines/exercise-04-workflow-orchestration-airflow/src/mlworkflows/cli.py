"""Command line for mlworkflows: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import (
    AppGroup,
    CLIError,
    ExitCode,
    NotFoundError,
    UnavailableError,
    echo_json,
    progress_bar,
)
from aiinfra_shared.config import ConfigError
from rich.console import Console
from rich.table import Table

from mlworkflows import __version__
from mlworkflows.config import Settings

console = Console()


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


@click.group(cls=AppGroup, epilog="""\b
Examples:
  mlworkflows run                      # data -> train -> inference with dag.test()
  mlworkflows validate incoming/x.csv  # schema + quality report
  mlworkflows configs                  # model configs behind the generated DAGs
  mlworkflows sla-report --json        # SLA compliance from the Airflow REST API v2
  mlworkflows render-pod cancer_forest # the KubernetesPodOperator pod manifest
""")
@click.version_option(__version__, prog_name="mlworkflows")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, envvar="MLWORKFLOWS_CONFIG",
              help="YAML/TOML settings file (env vars MLWORKFLOWS_* override it).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """ML workflows on Apache Airflow 3: validate data, train, gate, deploy, score, monitor."""
    if config_file is not None and not config_file.exists():
        raise CLIError(f"{config_file}: settings file does not exist", ExitCode.CONFIG)
    ctx.obj = {"settings": Settings.load(config_file)}


# --------------------------------------------------------------------------- run


@cli.command()
@click.option("--model", default=None, help="Model config name (default: first in configs/).")
@click.option("--home", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Workspace directory (default: settings home, ./.mlworkflows).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def run(ctx: click.Context, model: str | None, home: Path | None, as_json: bool) -> None:
    """Run data -> training -> batch inference locally with Airflow's dag.test().

    Stages the bundled dataset when incoming/ is empty, then prints where the model and the
    predictions landed. Exit 1 when a DAG run fails or the gate blocks deployment.

    \b
    Example:
      mlworkflows run --model cancer_logreg --home /tmp/mlw
    """
    settings = _settings(ctx)
    if home is not None:
        settings = settings.model_copy(update={"home": home})
    ws_root = settings.resolved_home()
    dags_folder = settings.dags_folder.resolve()
    configs_dir = settings.configs_dir.resolve()
    if not dags_folder.is_dir():
        raise NotFoundError(f"{dags_folder}: DAG folder not found (set MLWORKFLOWS_DAGS_FOLDER)")
    from mlworkflows import airflow_env
    from mlworkflows.pipeline import pick_config, run_pipeline

    try:
        config = pick_config(settings, configs_dir, model)
    except LookupError as exc:
        raise NotFoundError(str(exc)) from exc
    env_home = os.environ.get("AIRFLOW_HOME")
    airflow_home = Path(env_home) if env_home else ws_root / "airflow"
    airflow_env.configure(airflow_home, dags_folder, ws_root)
    os.environ["MLWORKFLOWS_CONFIGS_DIR"] = str(configs_dir)
    with progress_bar("pipeline", total=5) as advance:
        def step(message: str) -> None:
            click.echo(f"-> {message}", err=True)
            advance(1)

        result = run_pipeline(settings, config, dags_folder, step=step)
    payload = {
        "ok": result.ok and result.predictions_path is not None,
        "runs": [{"dag_id": r.dag_id, "run_id": r.run_id, "state": r.state} for r in result.runs],
        "model_path": result.model_path, "model_version": result.model_version,
        "predictions_path": result.predictions_path, "gate": result.gate,
        "workspace": str(ws_root), "airflow_home": str(airflow_home),
    }
    if as_json:
        echo_json(payload)
    else:
        table = Table(title="DAG runs (dag.test)")
        for column in ("dag_id", "run_id", "state"):
            table.add_column(column)
        for r in result.runs:
            table.add_row(r.dag_id, r.run_id, r.state)
        console.print(table)
        click.echo(f"model:       {result.model_path or '-'} (v{result.model_version or '-'})")
        click.echo(f"predictions: {result.predictions_path or '-'}")
        if result.gate and not result.gate["passed"]:
            click.echo("gate blocked deployment: " + "; ".join(result.gate["reasons"]))
    if not payload["ok"]:
        failed = [r.dag_id for r in result.runs if not r.ok]
        raise CLIError(f"pipeline did not complete (failed: {', '.join(failed) or 'gate'}); "
                       f"task logs: {airflow_home / 'logs'}")


# --------------------------------------------------------------------------- validate


@cli.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--unlabelled", is_flag=True, help="A scoring batch: no target column.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate(path: Path, unlabelled: bool, as_json: bool) -> None:
    """Validate a data file against the schema and quality checks (what the data DAG runs).

    Exit 0 when valid, 1 when it fails (the report names failing columns and rows),
    4 when the file does not exist.

    \b
    Example:
      mlworkflows validate .mlworkflows/quarantine/batch.csv --json
    """
    from mlworkflows.validation import validate_file

    if not path.exists():
        raise NotFoundError(f"{path}: data file does not exist")
    report = validate_file(path, labelled=not unlabelled)
    if as_json:
        echo_json({**report.to_dict(), "summary": report.summary()})
    else:
        click.echo(report.summary())
        if report.failures:
            table = Table(title="failures")
            for column in ("column", "check", "row", "value"):
                table.add_column(column)
            for f in report.failures:
                table.add_row(f.column, f.check, "" if f.row is None else str(f.row), f.value)
            console.print(table)
    if not report.ok:
        raise CLIError(report.summary(), ExitCode.FAILURE)


# --------------------------------------------------------------------------- configs


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the configs as JSON.")
@click.pass_context
def configs(ctx: click.Context, as_json: bool) -> None:
    """List the model configs (one training/inference/monitoring DAG each); exit 3 if invalid."""
    from mlworkflows.model_config import ModelConfigError, load_model_configs

    try:
        found = load_model_configs(_settings(ctx).configs_dir)
    except ModelConfigError as exc:
        raise ConfigError(str(exc)) from exc
    if as_json:
        echo_json([{**c.model_dump(), "source_file": c.source_file,
                    "dags": [c.training_dag_id, c.inference_dag_id, c.monitoring_dag_id]}
                   for c in found])
        return
    table = Table(title=f"model configs ({_settings(ctx).configs_dir})")
    for column in ("name", "model_type", "trials", "primary_metric", "executor", "training DAG"):
        table.add_column(column)
    for c in found:
        table.add_row(c.name, c.model_type, str(len(c.trials)), c.primary_metric, c.executor,
                      c.training_dag_id)
    console.print(table)


# --------------------------------------------------------------------------- dags


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print DAGs and import errors as JSON.")
@click.pass_context
def dags(ctx: click.Context, as_json: bool) -> None:
    """Parse the DAG folder like Airflow does; exit 3 when a file has an import error."""
    settings = _settings(ctx)
    from mlworkflows import airflow_env

    env_home = os.environ.get("AIRFLOW_HOME")
    airflow_env.configure(Path(env_home) if env_home else settings.resolved_home() / "airflow",
                          settings.dags_folder.resolve(), settings.resolved_home())
    found, errors = airflow_env.load_dags(settings.dags_folder.resolve())
    rows = [{"dag_id": d, "tasks": len(dag.tasks), "schedule": str(dag.timetable.summary),
             "file": Path(dag.fileloc).name} for d, dag in sorted(found.items())]
    if as_json:
        echo_json({"dags": rows, "import_errors": errors})
    else:
        table = Table(title=f"DAGs in {settings.dags_folder}")
        for column in ("dag_id", "tasks", "schedule", "file"):
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(row[k]) for k in ("dag_id", "tasks", "schedule", "file")))
        console.print(table)
    if errors:
        first_file, message = next(iter(errors.items()))
        raise CLIError(f"import error in {Path(first_file).name}: "
                       f"{message.strip().splitlines()[-1]}", ExitCode.CONFIG)


# --------------------------------------------------------------------------- sla-report


@cli.command("sla-report")
@click.option("--api-url", default=None, help="Airflow API base URL (default from settings).")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 10000),
              help="Most recent DAG runs to read.")
@click.option("--dag", "dag_filter", default=None, help="Only DAG ids containing this text.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def sla_report(ctx: click.Context, api_url: str | None, limit: int, dag_filter: str | None,
               as_json: bool) -> None:
    """SLA compliance per DAG from run and task durations (Airflow REST API v2).

    Targets come from settings `sla_targets` (dag_id glob -> seconds), else
    `default_sla_seconds`. Exit 5 when the API cannot be reached.

    \b
    Example:
      export MLWORKFLOWS_SLA_TARGETS='{"mlw_train_*": 300}'
      mlworkflows sla-report --api-url http://127.0.0.1:8080 --json
    """
    from mlworkflows.adapters.airflow_api import (
        AirflowApiError,
        AirflowApiUnavailableError,
        AirflowClient,
    )
    from mlworkflows.sla import compute_sla

    settings = _settings(ctx)
    url = api_url or settings.api_url
    username, password = settings.api_credentials()
    try:
        with AirflowClient(url, username, password, settings.api_timeout_s) as client:
            runs = client.dag_runs(limit=limit)
            tis = client.task_instances(limit=limit * 10)
    except AirflowApiUnavailableError as exc:
        raise UnavailableError(str(exc)) from exc
    except AirflowApiError as exc:
        raise CLIError(str(exc), ExitCode.FAILURE) from exc
    if dag_filter:
        runs = [r for r in runs if dag_filter in r["dag_id"]]
    report = compute_sla(runs, tis, settings.sla_target_for, datetime.now(UTC))
    if as_json:
        echo_json({"api_url": url, "dags": [r.to_dict() for r in report]})
        return
    table = Table(title=f"SLA compliance ({url})")
    for column in ("dag_id", "target s", "runs", "met", "missed", "pending", "compliance",
                   "p50 s", "p95 s", "slowest task"):
        table.add_column(column)

    def fmt(value: Any) -> str:
        return "-" if value is None else str(value)

    for r in report:
        table.add_row(r.dag_id, f"{r.target_s:g}", str(r.runs), str(r.met), str(r.missed),
                      str(r.pending), "-" if r.compliance_pct is None else f"{r.compliance_pct}%",
                      fmt(r.p50_s), fmt(r.p95_s),
                      f"{r.slowest_task} ({r.slowest_task_mean_s}s)" if r.slowest_task else "-")
    console.print(table)
    if not report:
        click.echo("no DAG runs found")


# --------------------------------------------------------------------------- kubernetes


@cli.command("render-pod")
@click.argument("model")
@click.option("--trial", default=0, show_default=True, type=click.IntRange(0, None))
@click.option("--run-dir", default=None, help="Run directory (worker path) for the pod's "
              "arguments; default: an example run under MLWORKFLOWS_HOME.")
@click.pass_context
def render_pod_cmd(ctx: click.Context, model: str, trial: int, run_dir: str | None) -> None:
    """Print the KubernetesPodOperator pod manifest (JSON) for one training trial of MODEL."""
    from mlworkflows.kubernetes import render_pod
    from mlworkflows.model_config import ModelConfigError, load_model_configs

    try:
        found = {c.name: c for c in load_model_configs(_settings(ctx).configs_dir)}
    except ModelConfigError as exc:
        raise ConfigError(str(exc)) from exc
    if model not in found:
        raise NotFoundError(f"no model config named {model!r} (have: {', '.join(found)})")
    if trial >= len(found[model].trials):
        raise CLIError(f"{model} has {len(found[model].trials)} trials; --trial {trial} is out "
                       "of range", ExitCode.USAGE)
    echo_json(render_pod(found[model], trial, run_dir=run_dir, settings=_settings(ctx)))


@cli.command("train-trial")
@click.option("--config", "config_path", required=True,
              type=click.Path(path_type=Path, dir_okay=False))
@click.option("--trial", required=True, type=click.IntRange(0, None))
@click.option("--params", "params_json", required=True, help="Hyperparameters as JSON.")
@click.option("--run-dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Run directory holding train.csv/test.csv (from prepare_features).")
@click.option("--xcom", is_flag=True, help="Also write the result for the KPO XCom sidecar.")
@click.option("--xcom-path", type=click.Path(path_type=Path),
              default=Path("/airflow/xcom/return.json"), show_default=True)
def train_trial(config_path: Path, trial: int, params_json: str, run_dir: Path, xcom: bool,
                xcom_path: Path) -> None:
    """Run one hyperparameter trial: the command the KubernetesPodOperator pod executes."""
    from aiinfra_shared.io import atomic_write_json

    from mlworkflows import training
    from mlworkflows.model_config import ModelConfigError, load_model_config

    try:
        config = load_model_config(config_path)
    except ModelConfigError as exc:
        raise ConfigError(str(exc)) from exc
    try:
        params = json.loads(params_json)
    except json.JSONDecodeError as exc:
        raise CLIError(f"--params is not valid JSON: {exc.msg}", ExitCode.USAGE) from exc
    features = {"train_path": str(run_dir / "train.csv"), "test_path": str(run_dir / "test.csv")}
    for p in features.values():
        if not Path(p).exists():
            raise NotFoundError(f"{p}: missing; run prepare_features for this run first")
    result = training.run_trial(config, trial, params, features, run_dir)
    if xcom:
        atomic_write_json(xcom_path, result)
    echo_json(result)


# --------------------------------------------------------------------------- sample data


@cli.command("sample-data")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--rows", default=400, show_default=True, type=click.IntRange(50, 569))
@click.option("--seed", default=0, show_default=True)
@click.option("--shift", default=0.0, show_default=True, help="Scale features by 1+shift (drift).")
@click.option("--unlabelled", is_flag=True, help="Drop the target (a scoring batch).")
@click.option("--corrupt", is_flag=True, help="Inject schema violations (demo of quarantine).")
def sample_data(out: Path, rows: int, seed: int, shift: float, unlabelled: bool,
                corrupt: bool) -> None:
    """Write a CSV drawn from the bundled dataset (atomically: never claimed half-written)."""
    from mlworkflows import data

    if corrupt:
        frame = data.corrupt_batch(seed)
    else:
        frame = data.make_batch(rows, seed, shift, labelled=not unlabelled)
    data.write_csv(frame, out)
    click.echo(f"wrote {len(frame)} rows to {out}")


main = cli
