"""Command line for mlscaffold: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, NotFoundError, echo_json, progress_bar
from aiinfra_shared.config import ConfigError
from aiinfra_shared.io import atomic_write_text
from rich.console import Console
from rich.table import Table

from mlscaffold import __version__
from mlscaffold.adapters.git_merge import GitUnavailableError
from mlscaffold.adapters.project_env import ProjectEnvError, export_app_schema
from mlscaffold.answers import (
    AnswersError,
    AnswersRecord,
    parse_set_options,
    project_name_error,
    read_answers_input,
)
from mlscaffold.config import Settings
from mlscaffold.docs import architecture_markdown, openapi_markdown
from mlscaffold.generator import create, plan_new
from mlscaffold.templates import Question, Template, get_template, load_templates
from mlscaffold.update import UpdateApplyError, apply_update, plan_update
from mlscaffold.validate import validate_project

console = Console()


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _template(name: str, settings: Settings) -> Template:
    try:
        return get_template(name, settings.templates_dir)
    except LookupError as exc:
        raise NotFoundError(str(exc).strip('"')) from exc


@click.group(cls=AppGroup, epilog="""\b
Examples:
  mlscaffold list
  mlscaffold new iris-api -t sklearn --set port=8080
  mlscaffold new embedder -t pytorch --answers answers.yaml --output-dir services/
  mlscaffold validate iris-api
  mlscaffold update iris-api --dry-run
  mlscaffold docs iris-api""")
@click.version_option(__version__, prog_name="mlscaffold")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="YAML/TOML settings file (env MLSCAFFOLD_* overrides it).")
@click.option("--templates-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Use templates from this folder (env MLSCAFFOLD_TEMPLATES_DIR).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, templates_dir: Path | None) -> None:
    """Generate standardised FastAPI model-serving projects and keep them up to date.

    Every generated project has probes, metrics, structured logs, auth, a non-root
    Dockerfile, Kubernetes manifests, CI and tests that pass out of the box.
    """
    overrides: dict[str, Any] = {"templates_dir": templates_dir} if templates_dir else {}
    ctx.obj = Settings.load(config_file, **overrides)


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_templates(ctx: click.Context, as_json: bool) -> None:
    """List the available templates with their versions.

    \b
    Example:
      mlscaffold list --json
    """
    templates = load_templates(_settings(ctx).templates_dir)
    if as_json:
        echo_json([{"name": t.name, "version": t.version, "description": t.description,
                    "questions": sorted(t.questions)} for t in templates.values()])
        return
    table = Table(title="mlscaffold templates")
    for column in ("template", "version", "description"):
        table.add_column(column)
    for t in templates.values():
        table.add_row(t.name, t.version, t.description)
    console.print(table)


def _prompt(name: str, question: Question, default: Any) -> Any:
    kind: Any = {"int": int, "float": float, "bool": bool}.get(question.type, str)
    if question.type == "choice":
        kind = click.Choice(question.choices or [])
    label = f"{name} ({question.help})" if question.help else name
    return click.prompt(label, default=default, type=kind, err=True)


@cli.command()
@click.argument("name")
@click.option("-t", "--template", "template_name", default=None,
              help="Template to use (see `mlscaffold list`; default: sklearn).")
@click.option("--answers", "answers_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="YAML/TOML file of answers (non-interactive).")
@click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE",
              help="Answer one question; repeatable; wins over --answers.")
@click.option("-o", "--output-dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Parent folder of the new project (default: current dir).")
@click.option("--interactive/--no-interactive", default=None,
              help="Prompt for unanswered questions (default: when stdin is a terminal).")
@click.option("--lock/--no-lock", default=None,
              help="Run `uv lock` in the new project (default: on; --no-lock for offline use, "
                   "then `make lock` before building the image).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def new(ctx: click.Context, name: str, template_name: str | None, answers_file: Path | None,
        set_values: tuple[str, ...], output_dir: Path | None, interactive: bool | None,
        lock: bool | None, as_json: bool) -> None:
    """Create project NAME from a template.

    Answers are validated before anything is written; the project appears in one
    rename, so a failure leaves nothing behind. `uv lock` runs before that rename, so the
    project comes with the uv.lock its Dockerfile and CI need (exit 5 if locking fails).

    \b
    Examples:
      mlscaffold new iris-api -t sklearn
      mlscaffold new tensor-api -t pytorch --set max_batch_size=64 --set max_wait_ms=2
      mlscaffold new gateway -t llm-gateway --answers answers.yaml --no-interactive
    """
    settings = _settings(ctx)
    problem = project_name_error(name)
    if problem:
        raise CLIError(problem, ExitCode.USAGE)
    template = _template(template_name or settings.default_template, settings)
    target = (output_dir or settings.output_dir) / name
    try:
        raw = read_answers_input(answers_file) if answers_file else {}
        raw.update(parse_set_options(set_values, template))
    except AnswersError as exc:
        raise CLIError(str(exc), ExitCode.CONFIG) from exc
    raw["project_name"] = name
    if interactive is None:
        interactive = sys.stdin.isatty() and answers_file is None and not set_values
    if interactive:
        for key, question in template.questions.items():
            if key not in raw:
                raw[key] = _prompt(key, question, question.default)
    try:
        project = plan_new(template, raw, target)
    except AnswersError as exc:
        raise CLIError(str(exc), ExitCode.CONFIG) from exc
    except FileExistsError as exc:
        raise CLIError(str(exc), ExitCode.CONFLICT) from exc
    do_lock = settings.lock if lock is None else lock
    try:
        if do_lock:
            with progress_bar(f"Locking {name}'s dependencies (uv lock)"):
                create(project, True, settings.uv_timeout_s)
        else:
            create(project, False)
    except ProjectEnvError as exc:
        raise CLIError(str(exc), ExitCode.UNAVAILABLE) from exc
    if as_json:
        echo_json({"path": str(target), "template": template.name,
                   "template_version": template.version, "files": len(project.files),
                   "locked": do_lock})
        return
    click.echo(f"created {target} from {template.name} {template.version} "
               f"({len(project.files)} files)")
    click.echo(f"next: cd {target} && make test && make run")


@cli.command()
@click.argument("project", type=click.Path(path_type=Path, file_okay=False))
@click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE",
              help="Change a stored answer while updating.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.pass_context
def update(ctx: click.Context, project: Path, set_values: tuple[str, ...], dry_run: bool,
           as_json: bool) -> None:
    """Re-render PROJECT with the current template and merge in your edits.

    Files only the template changed are replaced, files only you changed are kept, files
    both changed are merged three-way (git merge-file); overlapping edits get conflict
    markers and the command exits 6.

    \b
    Examples:
      mlscaffold update iris-api --dry-run
      mlscaffold update iris-api --set memory_limit=2Gi
    """
    settings = _settings(ctx)
    try:
        record = AnswersRecord.read(project) if project.is_dir() else None
        template = _template(record.template, settings) if record else None
        overrides = parse_set_options(set_values, template) if template else {}
        plan = plan_update(project, settings.templates_dir, overrides)
    except FileNotFoundError as exc:
        raise NotFoundError(str(exc)) from exc
    except AnswersError as exc:
        raise CLIError(str(exc), ExitCode.CONFIG) from exc
    except GitUnavailableError as exc:
        raise CLIError(str(exc), ExitCode.UNAVAILABLE) from exc
    if not dry_run:
        try:
            apply_update(plan)
        except UpdateApplyError as exc:
            raise CLIError(str(exc), ExitCode.FAILURE) from exc
    if as_json:
        echo_json({"project": str(project), "template": plan.template,
                   "from_version": plan.old_version, "to_version": plan.new_version,
                   "dry_run": dry_run, "dropped_answers": plan.dropped_answers,
                   "changes": [{"path": c.path, "action": c.action, "detail": c.detail}
                               for c in plan.changes]})
    else:
        verb = "would update" if dry_run else "updated"
        click.echo(f"{verb} {project}: {plan.template} {plan.old_version} -> {plan.new_version}")
        if plan.changes:
            table = Table()
            for column in ("file", "action", "detail"):
                table.add_column(column)
            for c in plan.changes:
                style = "red" if c.action == "conflict" else None
                table.add_row(c.path, c.action, c.detail, style=style)
            console.print(table)
        else:
            click.echo("already up to date")
        for key in plan.dropped_answers:
            click.echo(f"note: answer {key!r} is no longer a template question; dropped")
    if plan.conflicts:
        files = ", ".join(c.path for c in plan.conflicts)
        raise CLIError(f"{len(plan.conflicts)} file(s) with conflicts: {files} "
                       "(resolve the <<<<<<< markers, then rerun your tests)", ExitCode.CONFLICT)


@cli.command()
@click.argument("project", type=click.Path(path_type=Path, file_okay=False))
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Output folder (default: PROJECT/docs).")
@click.pass_context
def docs(ctx: click.Context, project: Path, out_dir: Path | None) -> None:
    """Write PROJECT's API reference (from its OpenAPI schema) and architecture page.

    The schema comes from the project's own app, built in its own uv environment (the
    first run installs it).

    \b
    Example:
      mlscaffold docs iris-api      # writes iris-api/docs/api.md and architecture.md
    """
    settings = _settings(ctx)
    if not project.is_dir():
        raise NotFoundError(f"project directory {project} does not exist")
    record = AnswersRecord.read(project)
    package = record.answers.get("project_name", "").replace("-", "_")
    try:
        with progress_bar(f"Building {project.name}'s app in its environment"):
            exported = export_app_schema(project, package, settings.uv_timeout_s)
    except ProjectEnvError as exc:
        raise CLIError(str(exc), ExitCode.UNAVAILABLE) from exc
    out = out_dir or project / "docs"
    api_path, arch_path = out / "api.md", out / "architecture.md"
    atomic_write_text(api_path, openapi_markdown(exported["openapi"]))
    atomic_write_text(arch_path, architecture_markdown(record, exported["openapi"],
                                                       exported["settings"]))
    click.echo(f"wrote {api_path} and {arch_path}")


@cli.command()
@click.argument("project", type=click.Path(path_type=Path, file_okay=False))
@click.option("--static", "static_only", is_flag=True,
              help="Only the file checks: do not build the project's env or run it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def validate(ctx: click.Context, project: Path, static_only: bool, as_json: bool) -> None:
    """Check PROJECT against the platform standards; exit 1 when any check fails.

    Runtime checks (in the project's own uv env, built on first use): the app imports,
    its OpenAPI schema is valid, GET /health answers 200, the project's tests pass.
    Static checks: generated by mlscaffold, required files (uv.lock too), multi-stage
    non-root Dockerfile with HEALTHCHECK and pinned bases, Kubernetes
    probes/resources/runAsNonRoot, service endpoints, tests present, CI runs the tests and
    sets up uv before using it.

    \b
    Example:
      mlscaffold validate iris-api --json
    """
    try:
        settings = _settings(ctx)
        if static_only:
            checks = validate_project(project, settings.templates_dir, runtime=False)
        else:
            with progress_bar(f"Running {project.name} in its environment"):
                checks = validate_project(project, settings.templates_dir, True,
                                          settings.uv_timeout_s)
    except FileNotFoundError as exc:
        raise NotFoundError(str(exc)) from exc
    failed = [c for c in checks if not c.ok]
    if as_json:
        echo_json({"project": str(project), "ok": not failed,
                   "checks": [c.as_dict() for c in checks]})
    else:
        table = Table(title=f"mlscaffold validate {project}")
        for column in ("check", "result", "detail"):
            table.add_column(column)
        for c in checks:
            table.add_row(c.name, "[green]pass[/]" if c.ok else "[red]FAIL[/]", c.detail)
        console.print(table)
    if failed:
        raise CLIError(f"{len(failed)} of {len(checks)} checks failed: "
                       + ", ".join(c.name for c in failed), ExitCode.FAILURE)


main = cli

__all__ = ["ConfigError", "cli", "main"]
