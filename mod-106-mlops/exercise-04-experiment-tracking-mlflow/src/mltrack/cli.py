"""Command line for mltrack: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, echo_json, progress_bar
from aiinfra_shared.io import atomic_write_text
from rich.console import Console
from rich.table import Table

from mltrack import __version__
from mltrack.config import Settings
from mltrack.errors import (
    ConflictError,
    MissingDependencyError,
    NotFoundError,
    PromotionRejectedError,
    TrackingUnavailableError,
)

F = TypeVar("F", bound=Callable[..., Any])
console = Console()

_EXIT_CODES: dict[type[Exception], int] = {
    TrackingUnavailableError: ExitCode.UNAVAILABLE,
    NotFoundError: ExitCode.NOT_FOUND,
    ConflictError: ExitCode.CONFLICT,
    PromotionRejectedError: ExitCode.FAILURE,
    MissingDependencyError: ExitCode.UNAVAILABLE,
}


def domain_errors(fn: F) -> F:
    """Turn mltrack's domain errors into one-line CLI errors with documented exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except tuple(_EXIT_CODES) as exc:
            raise CLIError(str(exc), _EXIT_CODES[type(exc)]) from exc
        except ValueError as exc:
            raise CLIError(str(exc), ExitCode.USAGE) from exc

    return wrapper  # type: ignore[return-value]


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


def _tracker(ctx: click.Context) -> Any:
    from mltrack.adapters.mlflow_server import Tracker

    settings = _settings(ctx)
    return Tracker(settings.tracking_uri, retries=settings.retries,
                   backoff_s=settings.backoff_s, timeout_s=settings.request_timeout_s)


@click.group(cls=AppGroup, epilog="""\b
Examples:
  mltrack server up                       # PostgreSQL + S3 (moto) + mlflow server
  mltrack train sklearn --register        # track a run, register it as challenger
  mltrack promote cancer-classifier --candidate 2
  mltrack history cancer-classifier
  mltrack leaderboard breast-cancer --json
""")
@click.version_option(__version__, prog_name="mltrack")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              envvar="MLTRACK_CONFIG", help="YAML/TOML settings file (env: MLTRACK_CONFIG).")
@click.option("--tracking-uri", envvar="MLTRACK_TRACKING_URI",
              help="MLflow tracking server URL (default http://127.0.0.1:5055).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, tracking_uri: str | None) -> None:
    """Experiment tracking, model registry and gated promotion on MLflow 3.

    Settings come from defaults, then --config, then MLTRACK_* environment variables.
    Exit codes: 0 ok, 1 rejected/unhealthy, 2 usage, 3 config, 4 not found,
    5 server unreachable, 6 conflict, 70 internal.
    """
    overrides = {"tracking_uri": tracking_uri} if tracking_uri else {}
    ctx.obj = {"settings": Settings.load(config_file, **overrides)}


# --------------------------------------------------------------------------- server


@cli.group()
def server() -> None:
    """Run the local stack: PostgreSQL backend, S3 artifacts (moto), mlflow server."""


@server.command("up")
@click.pass_context
@domain_errors
def server_up(ctx: click.Context) -> None:
    """Start the stack in the background (about 30-60 s) and wait until healthy.

    \b
    Example:
      mltrack server up && export MLTRACK_TRACKING_URI=http://127.0.0.1:5055
    """
    from mltrack.adapters import stack

    settings = _settings(ctx)
    with progress_bar("Starting PostgreSQL, moto and mlflow server"):
        state = stack.up(settings.server, settings.state_dir)
    click.echo(f"mlflow server ready at {state.tracking_uri} (backend {state.backend_store_uri}, "
               f"artifacts {state.artifacts_destination} on {state.s3_endpoint})")


@server.command("down")
@click.option("--purge", is_flag=True,
              help="Also delete the kept data (database and artifacts) instead of saving it.")
@click.pass_context
@domain_errors
def server_down(ctx: click.Context, purge: bool) -> None:
    """Stop the stack started by `server up`, keeping its data for the next `up`.

    The database and the artifact bucket are saved in <state dir>/data and restored by the
    next `server up`; `--purge` deletes them instead.
    """
    from mltrack.adapters import stack

    settings = _settings(ctx)
    stopped, data = stack.down(settings.state_dir, settings.server.database, purge=purge)
    click.echo(f"{'stack stopped' if stopped else 'no stack running'}; {data}")


@server.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@domain_errors
def server_status(ctx: click.Context, as_json: bool) -> None:
    """Health of each component; exit 1 when any is down or nothing runs."""
    from mltrack.adapters import stack

    state = stack.read_state(_settings(ctx).state_dir)
    components = stack.health(state) if state else {}
    if as_json:
        echo_json({"running": state is not None, "components": components})
    elif not components:
        click.echo("no stack running (start one with `mltrack server up`)")
    else:
        table = Table("component", "up", "url", "detail")
        for name, item in components.items():
            table.add_row(name, "yes" if item["up"] else "NO", item["url"], item["detail"])
        console.print(table)
    if not components or not all(item["up"] for item in components.values()):
        ctx.exit(ExitCode.FAILURE)


# --------------------------------------------------------------------------- training


def _render_train(result: Any, as_json: bool) -> None:
    if as_json:
        echo_json(result.to_dict())
        return
    metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(result.metrics.items()))
    click.echo(f"run {result.run_id} logged {result.flavor} model {result.model_id} "
               f"(validation {metrics})")
    if result.version:
        click.echo(f"registered {result.model_name} version {result.version} "
                   "(alias: challenger)")


def _register_option(fn: F) -> F:
    fn = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(fn)
    fn = click.option("--model-name", help="Registered model name (default from settings).")(fn)
    fn = click.option("--register/--no-register", default=True, show_default=True,
                      help="Register the model and point `challenger` at it.")(fn)
    return click.option("--experiment", help="Experiment name (default from settings).")(fn)


def _mlp_options(fn: F) -> F:
    """The options both MLP trainers (PyTorch, Keras) take, so they stay the same."""
    fn = _register_option(fn)
    fn = click.option("--run-name", help="Run name (default derived from the parameters).")(fn)
    fn = click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.01,
                      show_default=True)(fn)
    fn = click.option("--epochs", type=click.IntRange(min=1), default=30,
                      show_default=True)(fn)
    return click.option("--hidden", type=click.IntRange(min=1), default=16,
                        show_default=True)(fn)


@cli.group()
def train() -> None:
    """Train a model on the bundled data and track the run."""


@train.command("sklearn")
@click.option("--alpha", type=click.FloatRange(min=0, min_open=True), default=1e-4,
              show_default=True, help="L2 regularisation strength.")
@click.option("--eta0", type=click.FloatRange(min=0, min_open=True), default=0.01,
              show_default=True, help="SGD learning rate.")
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--drop-feature", "drop", multiple=True,
              help="Leave a feature out (changes the signature; repeatable).")
@click.option("--run-name", help="Run name (default derived from the parameters).")
@_register_option
@click.pass_context
@domain_errors
def train_sklearn(ctx: click.Context, alpha: float, eta0: float, epochs: int,
                  drop: tuple[str, ...], run_name: str | None, experiment: str | None,
                  register: bool, model_name: str | None, as_json: bool) -> None:
    """SGD logistic regression (scikit-learn) with per-epoch curves.

    \b
    Example:
      mltrack train sklearn --alpha 0.001 --epochs 30
    """
    from mltrack import training

    settings = _settings(ctx)
    tracker = _tracker(ctx)
    with progress_bar("Training scikit-learn model"):
        result = training.train_sklearn(
            tracker, experiment or settings.experiment,
            training.SklearnParams(alpha=alpha, eta0=eta0, epochs=epochs),
            register_as=(model_name or settings.model_name) if register else None,
            drop_features=drop, run_name=run_name)
    _render_train(result, as_json)


@train.command("torch")
@_mlp_options
@click.pass_context
@domain_errors
def train_torch(ctx: click.Context, hidden: int, epochs: int, lr: float, run_name: str | None,
                experiment: str | None, register: bool, model_name: str | None,
                as_json: bool) -> None:
    """A tiny PyTorch MLP (CPU) with per-epoch curves.

    \b
    Example:
      mltrack train torch --hidden 8 --epochs 20 --model-name cancer-mlp
    """
    from mltrack import training

    settings = _settings(ctx)
    tracker = _tracker(ctx)
    with progress_bar("Training PyTorch model"):
        result = training.train_torch(
            tracker, experiment or settings.experiment,
            training.TorchParams(hidden=hidden, epochs=epochs, lr=lr),
            register_as=(model_name or f"{settings.model_name}-torch") if register else None,
            run_name=run_name)
    _render_train(result, as_json)


@train.command("keras")
@_mlp_options
@click.pass_context
@domain_errors
def train_keras(ctx: click.Context, hidden: int, epochs: int, lr: float, run_name: str | None,
                experiment: str | None, register: bool, model_name: str | None,
                as_json: bool) -> None:
    """A tiny Keras MLP (TensorFlow backend, CPU) with per-epoch curves.

    Needs the `tensorflow` extra (`uv sync --extra tensorflow`; the dev install has it).

    \b
    Example:
      mltrack train keras --hidden 8 --epochs 20 --model-name cancer-keras
    """
    from mltrack import training

    training.import_keras()  # a missing extra is reported before any server round trip
    settings = _settings(ctx)
    tracker = _tracker(ctx)
    with progress_bar("Training Keras model"):
        result = training.train_keras(
            tracker, experiment or settings.experiment,
            training.KerasParams(hidden=hidden, epochs=epochs, lr=lr),
            register_as=(model_name or f"{settings.model_name}-keras") if register else None,
            run_name=run_name)
    _render_train(result, as_json)


@cli.command()
@click.option("--alpha", "alphas", type=float, multiple=True,
              help="Grid values for alpha (repeatable; default 1e-4 1e-2).")
@click.option("--eta0", "eta0s", type=float, multiple=True,
              help="Grid values for eta0 (repeatable; default 0.001 0.01).")
@click.option("--epochs", type=click.IntRange(min=1), default=15, show_default=True)
@_register_option
@click.pass_context
@domain_errors
def search(ctx: click.Context, alphas: tuple[float, ...], eta0s: tuple[float, ...],
           epochs: int, experiment: str | None, register: bool, model_name: str | None,
           as_json: bool) -> None:
    """Grid search as nested runs; the best model is logged on the parent run.

    \b
    Example:
      mltrack search --alpha 0.0001 --alpha 0.01 --eta0 0.01
    """
    from mltrack import training

    settings = _settings(ctx)
    tracker = _tracker(ctx)
    with progress_bar("Hyperparameter search"):
        result = training.hyperparameter_search(
            tracker, experiment or settings.experiment, alphas or (1e-4, 1e-2),
            eta0s or (0.001, 0.01), epochs,
            register_as=(model_name or settings.model_name) if register else None)
    if as_json:
        echo_json({"parent_run_id": result.parent_run_id, "trials": result.trials,
                   "best": result.best.to_dict() if result.best else None})
        return
    table = Table("trial run", "alpha", "eta0", "val_f1", "val_accuracy",
                  title=f"search {result.parent_run_id}")
    for trial in result.trials:
        table.add_row(trial["run_id"][:12], f"{trial['alpha']:g}", f"{trial['eta0']:g}",
                      f"{trial['val_f1']:.4f}", f"{trial['val_accuracy']:.4f}")
    console.print(table)
    if result.best:
        _render_train(result.best, False)


# --------------------------------------------------------------------------- registry


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@domain_errors
def versions(ctx: click.Context, name: str, as_json: bool) -> None:
    """List a registered model's versions with aliases and the last decision."""
    tracker = _tracker(ctx)
    model = tracker.registered_model(name)
    aliases: dict[str, list[str]] = {}
    for alias, number in dict(model.aliases).items():
        aliases.setdefault(str(number), []).append(alias)
    rows = [{"version": str(mv.version), "aliases": sorted(aliases.get(str(mv.version), [])),
             "flavor": mv.tags.get("mltrack.flavor", ""),
             "decision": mv.tags.get("mltrack.decision", ""),
             "run_id": mv.run_id, "description": mv.description or ""}
            for mv in tracker.versions(name)]
    if as_json:
        echo_json({"model": name, "description": model.description, "versions": rows})
        return
    table = Table("version", "aliases", "flavor", "last decision", "run", title=name)
    for row in rows:
        table.add_row(row["version"], ",".join(row["aliases"]), row["flavor"],
                      row["decision"], (row["run_id"] or "")[:12])
    console.print(table)


@cli.command()
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version")
@click.pass_context
@domain_errors
def alias(ctx: click.Context, name: str, alias_name: str, version: str) -> None:
    """Point ALIAS of model NAME at VERSION (use `promote` for `champion`).

    \b
    Example:
      mltrack alias cancer-classifier challenger 3
    """
    if alias_name == "champion":
        raise CLIError("the champion alias moves only through `mltrack promote` or "
                       "`mltrack rollback` (gated and audited)", ExitCode.USAGE)
    _tracker(ctx).set_alias(name, alias_name, version)
    click.echo(f"{name}@{alias_name} -> version {version}")


@cli.command()
@click.argument("name")
@click.option("--alias", "alias_name", default="champion", show_default=True)
@click.option("--rows", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many held-out rows to predict.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@domain_errors
def predict(ctx: click.Context, name: str, alias_name: str, rows: int, as_json: bool) -> None:
    """Load models:/NAME@ALIAS and predict held-out rows."""
    from mltrack import promotion

    result = promotion.predict(_tracker(ctx), name, alias_name, rows)
    if as_json:
        echo_json(result)
        return
    click.echo(f"models:/{name}@{alias_name} (version {result['version']}): predictions "
               f"{result['predictions']} truth {result['truth']}")


# --------------------------------------------------------------------------- promotion


@cli.command()
@click.argument("name")
@click.option("--candidate", required=True, help="Model version to evaluate.")
@click.option("--reason", help="Why this promotion is requested (recorded).")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.pass_context
@domain_errors
def promote(ctx: click.Context, name: str, candidate: str, reason: str | None,
            as_json: bool) -> None:
    """Evaluate a candidate against the champion; move `champion` if every gate passes.

    The evaluation on the held-out split is a tracked run; the decision is recorded as
    model-version tags, a history event and an audit-log line. Exit 1 when rejected.

    \b
    Example:
      mltrack promote cancer-classifier --candidate 3 --reason "weekly retrain"
    """
    from mltrack import promotion

    settings = _settings(ctx)
    with progress_bar(f"Evaluating {name} v{candidate}"):
        decision = promotion.promote(_tracker(ctx), settings, name, candidate, reason)
    if as_json:
        echo_json(decision.to_dict())
    else:
        table = Table("gate", "passed", "detail", title=f"{name} v{candidate}")
        for check in decision.report.checks:
            table.add_row(check.name, "yes" if check.passed else "NO", check.detail)
        console.print(table)
    if not decision.promoted:
        raise PromotionRejectedError(
            f"candidate v{candidate} rejected: {decision.report.summary()} "
            f"(champion unchanged: {decision.previous_champion or 'none'})")
    if not as_json:
        click.echo(f"promoted {name} v{candidate} to champion "
                   f"(previous: {decision.previous_champion or 'none'})")


@cli.command()
@click.argument("name")
@click.option("--reason", help="Why (recorded in tags, history and the audit log).")
@click.pass_context
@domain_errors
def rollback(ctx: click.Context, name: str, reason: str | None) -> None:
    """Restore the previous champion."""
    from mltrack import promotion

    event = promotion.rollback(_tracker(ctx), _settings(ctx), name, reason)
    click.echo(f"rolled back {name}: champion v{event.previous} -> v{event.version}")


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@domain_errors
def history(ctx: click.Context, name: str, as_json: bool) -> None:
    """Which version was champion when (oldest first)."""
    from mltrack import promotion

    intervals = promotion.champion_history(_tracker(ctx), name)
    if as_json:
        echo_json([vars(i) for i in intervals])
        return
    table = Table("version", "champion since", "until", "via", "by", "reason",
                  title=f"{name} champion history")
    for item in intervals:
        table.add_row(item.version, item.since, item.until or "(now)", item.action, item.by,
                      item.reason)
    console.print(table)


@cli.command()
@click.option("--model", help="Only records for this model.")
@click.option("--local", is_flag=True,
              help="Read this machine's local copy instead of the tracking server.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@domain_errors
def audit(ctx: click.Context, model: str | None, local: bool, as_json: bool) -> None:
    """Show the audit records of promotion decisions (shared, on the tracking server).

    \b
    Example:
      mltrack audit --model cancer-classifier --json
    """
    from mltrack import promotion
    from mltrack.audit import AuditLog

    records = (AuditLog(_settings(ctx).audit_log_path).read(model) if local
               else promotion.audit_records(_tracker(ctx), model))
    if as_json:
        echo_json(records)
        return
    table = Table("at", "event", "model", "version", "by", "reason")
    for record in records:
        table.add_row(record.get("at", ""), record.get("event", ""), record.get("model", ""),
                      str(record.get("candidate") or record.get("to") or ""),
                      record.get("by", ""), record.get("reason", ""))
    console.print(table)


# --------------------------------------------------------------------------- reporting


@cli.command()
@click.argument("experiment")
@click.option("--metric", default="val_f1", show_default=True, help="Ranking metric.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@domain_errors
def leaderboard(ctx: click.Context, experiment: str, metric: str, limit: int,
                as_json: bool) -> None:
    """Best finished runs of EXPERIMENT by METRIC.

    \b
    Example:
      mltrack leaderboard breast-cancer --metric val_accuracy --limit 5
    """
    from mltrack import reporting

    rows = reporting.leaderboard(_tracker(ctx), experiment, metric, limit)
    if as_json:
        echo_json([row.to_dict() for row in rows])
        return
    table = Table("#", "run", "flavor", metric, "params", "started", title=experiment)
    for row in rows:
        params = ", ".join(f"{k}={v}" for k, v in sorted(row.params.items())
                           if not k.startswith("search."))
        table.add_row(str(row.rank), row.run_name + (" (trial)" if row.parent_run_id else ""),
                      row.flavor, "" if row.metric is None else f"{row.metric:.4f}",
                      params[:60], row.started)
    console.print(table)


@cli.command()
@click.argument("experiment", required=False)
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("mltrack-report.html"), show_default=True)
@click.option("--metric", default="val_f1", show_default=True)
@click.pass_context
@domain_errors
def report(ctx: click.Context, experiment: str | None, output: Path, metric: str) -> None:
    """Write an HTML report with plots of the runs and their metric curves."""
    from mltrack import reporting

    name = experiment or _settings(ctx).experiment
    page = reporting.html_report(_tracker(ctx), name, metric)
    atomic_write_text(output, page)
    click.echo(f"wrote {output}")


main = cli
