"""Command line for envman: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from aiinfra_shared.cli import AppGroup, echo_json, progress_bar
from rich.console import Console
from rich.table import Table

from envman import __version__, doctor, envs, project
from envman.adapters import containers
from envman.config import load_settings
from envman.context import Context
from envman.errors import Exit
from envman.export import FORMATS
from envman.spec import BACKENDS, SPEC_FILE, find_project, load_spec
from envman.target import DEFAULT_PLATFORM, PLATFORMS

EXIT_CODES = "\n".join(f"  {int(code):>3}  {code.name.lower().replace('_', ' ')}" for code in Exit)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console().print(table)


def _ctx(click_ctx: click.Context) -> Context:
    return project.load_context(click_ctx.obj["dir"])


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _steps(description: str, total: int | None) -> Any:
    return progress_bar(description, total=total)


@click.group(cls=AppGroup, epilog=f"\b\nExit codes:\n{EXIT_CODES}")
@click.version_option(__version__, prog_name="envman")
@click.option("-C", "--directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path(), show_default=True,
              help="Project directory (envman.toml is looked up from here upwards).")
@click.pass_context
def cli(ctx: click.Context, directory: Path) -> None:
    """Set up and keep healthy the Python environment of an ML project.

    One spec (envman.toml), four backends: venv+pip, uv, Poetry, conda.

    \b
    Examples:
      envman init --backend uv --python 3.11      # writes envman.toml (imports pyproject)
      envman add numpy 'pandas<3'                 # declare, lock, sync
      envman create                               # build .venv atomically
      envman doctor --fix                         # find and repair drift
      envman export --format dockerfile           # Dockerfile + .dockerignore
      envman run -- python -c 'import numpy'
    """
    ctx.ensure_object(dict)
    ctx.obj["dir"] = directory.resolve()


@cli.command()
@click.option("--name", help="Project name (default: imported name or directory name).")
@click.option("--python", "python", help="Python version, e.g. 3.11 (default: this one).")
@click.option("--backend", type=click.Choice(BACKENDS),
              help="Environment manager (default: user config default_backend, else uv).")
@click.option("--from", "sources", multiple=True, type=click.Path(path_type=Path),
              help="Import dependencies from a pyproject.toml or requirements*.txt "
                   "(repeatable; *dev*/*test* requirement files become dev dependencies).")
@click.option("--import/--no-import", "auto_import", default=True, show_default=True,
              help="Without --from, import from ./pyproject.toml or ./requirements*.txt.")
@click.option("--base-image", help="Docker base image (default python:X.Y-slim-bookworm).")
@click.option("--force", is_flag=True, help="Overwrite an existing envman.toml.")
@click.pass_context
def init(ctx: click.Context, name: str | None, python: str | None, backend: str | None,
         sources: tuple[Path, ...], auto_import: bool, base_image: str | None,
         force: bool) -> None:
    """Write envman.toml for the project in the current directory.

    \b
    Examples:
      envman init
      envman init --backend poetry --python 3.12 --from requirements.txt
    """
    directory: Path = ctx.obj["dir"]
    spec, imported = project.init(directory, name=name, python=python, backend=backend,
                                  sources=list(sources), auto_import=auto_import, force=force,
                                  base_image=base_image)
    origin = f" (imported from {', '.join(imported.sources)})" if imported and imported.sources \
        else ""
    click.echo(f"wrote {directory / SPEC_FILE}: backend {spec.project.backend}, python "
               f"{spec.project.python}, {len(spec.project.dependencies)} dependencies, "
               f"{len(spec.project.dev_dependencies)} dev{origin}")


def _group_opts(func: Any) -> Any:
    func = click.option("--group", "groups", multiple=True,
                        help="Also install this optional group (repeatable).")(func)
    return click.option("--dev/--no-dev", default=True, show_default=True,
                        help="Install dev dependencies.")(func)


@cli.command()
@click.option("--backend", type=click.Choice(BACKENDS), help="Override envman.toml's backend "
              "(saved to envman.toml only if the create succeeds).")
@click.option("--python", "python", help="Override the Python version (saved on success).")
@_group_opts
@click.pass_context
def create(ctx: click.Context, backend: str | None, python: str | None, dev: bool,
           groups: tuple[str, ...]) -> None:
    """Build the environment (.venv, or .conda-env for conda) from the spec and lock.

    Built in a staging directory and moved into place: a failed create leaves the previous
    environment and envman.toml as they were.

    \b
    Examples:
      envman create
      envman create --backend venv --python 3.12 --group plot
    """
    context = _ctx(ctx)
    original = context.spec.model_copy(deep=True)
    if backend:
        context.spec.project.backend = backend  # type: ignore[assignment]
    if python:
        context.spec.project.python = python
    with _steps("create", 4) as advance:
        result = envs.create(context, dev, groups, step=lambda _m: advance(1))
    if context.spec != original:
        from aiinfra_shared.io import atomic_write_text

        atomic_write_text(context.spec_path, context.spec.to_toml())
    where = f" with Python {result.interpreter.version} ({result.interpreter.source})" \
        if result.interpreter else ""
    click.echo(f"created {result.env} [{context.spec.project.backend}]{where}: "
               f"{result.packages} packages")


@cli.command()
@click.pass_context
def lock(ctx: click.Context) -> None:
    """Resolve the spec into a lock (uv lock, poetry lock, or uv pip compile for venv/conda)."""
    context = _ctx(ctx)
    with _steps("lock", None):
        files = envs.lock(context)
    for path in files:
        click.echo(f"locked {path.relative_to(context.project)}")


@cli.command()
@click.option("--dev/--no-dev", default=None, help="Install dev dependencies "
              "(default: as at the last create/sync).")
@click.option("--group", "groups", multiple=True, help="Optional groups to install "
              "(default: as at the last create/sync).")
@click.pass_context
def sync(ctx: click.Context, dev: bool | None, groups: tuple[str, ...]) -> None:
    """Make the environment match spec + lock: install missing, remove undeclared."""
    context = _ctx(ctx)
    with _steps("sync", 2) as advance:
        env = envs.sync(context, dev, groups or None, step=lambda _m: advance(1))
    click.echo(f"synced {env}")


def _add_remove_opts(func: Any) -> Any:
    func = click.option("--group", help="Add to / remove from this optional group.")(func)
    return click.option("--dev", is_flag=True, help="Dev dependency.")(func)


@cli.command()
@click.argument("packages", nargs=-1, required=True)
@_add_remove_opts
@click.pass_context
def add(ctx: click.Context, packages: tuple[str, ...], dev: bool, group: str | None) -> None:
    """Declare packages, re-lock, and sync the environment if it exists.

    All or nothing: if a package cannot be resolved, envman.toml, the lock and the
    environment stay as they were.

    \b
    Examples:
      envman add numpy 'pandas>=2,<3'
      envman add --dev pytest
      envman add --group plot matplotlib
    """
    added = project.add(_ctx(ctx), list(packages), dev, group)
    click.echo(f"added {', '.join(added)}")


@cli.command()
@click.argument("packages", nargs=-1, required=True)
@_add_remove_opts
@click.pass_context
def remove(ctx: click.Context, packages: tuple[str, ...], dev: bool, group: str | None) -> None:
    """Undeclare packages, re-lock, and sync the environment if it exists."""
    removed = project.remove(_ctx(ctx), list(packages), dev, group)
    click.echo(f"removed {', '.join(removed)}")


@cli.command(name="doctor")
@click.option("--fix", is_flag=True, help="Repair what can be repaired (lock, sync, rebuild).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def doctor_cmd(ctx: click.Context, fix: bool, as_json: bool) -> None:
    """Check interpreter, lock and packages against the spec. Exit 0 healthy, 1 unhealthy.

    \b
    Checks: environment exists; interpreter runs and has the requested version; lock is
    not older than envman.toml; no declared package missing; no undeclared package
    installed; versions match the lock; no `pip check` conflicts.
    """
    context = _ctx(ctx)
    findings = doctor.diagnose(context)
    repaired: list[str] = []
    if fix and findings:
        with _steps("repair", None):
            repaired = doctor.repair(context, findings)
        context = _ctx(ctx)
        remaining = doctor.diagnose(context)
    else:
        remaining = findings
    if as_json:
        echo_json({"healthy": not remaining, "findings": [f.as_dict() for f in findings],
                   "repaired": repaired, "remaining": [f.as_dict() for f in remaining]})
    else:
        if findings:
            _table("envman doctor", ["check", "problem", "fix"],
                   [[f.check, f.problem, f.fix] for f in findings])
        for action in repaired:
            click.echo(f"fixed: {action}")
        click.echo("healthy" if not remaining else
                   f"unhealthy: {len(remaining)} problem(s)"
                   + ("" if fix else "; run `envman doctor --fix`"))
    if remaining:
        ctx.exit(int(Exit.UNHEALTHY))


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List installed packages with their locked version and how they are declared."""
    rows = envs.list_packages(_ctx(ctx))
    if as_json:
        echo_json(rows)
        return
    _table("packages", ["name", "installed", "locked", "declared"],
           [[r["name"], r["installed"], r["locked"], r["declared"]] for r in rows])


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def info(ctx: click.Context, as_json: bool) -> None:
    """Backend, Python, package count and size on disk of the environment."""
    data = envs.info(_ctx(ctx))
    if as_json:
        echo_json(data)
        return
    rows = [[k, _human_size(v) if k == "size_bytes" else v] for k, v in data.items()]
    _table("environment", ["key", "value"], rows)


@cli.command()
@click.argument("env_a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("env_b", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def diff(env_a: Path, env_b: Path, as_json: bool) -> None:
    """Packages whose versions differ between two environments (or project directories).

    Exit 0 when they hold the same packages, 1 when they differ.

    \b
    Example:
      envman diff .venv ../other-project
    """
    rows = envs.diff(envs.resolve_env(env_a), envs.resolve_env(env_b))
    if as_json:
        echo_json(rows)
    elif rows:
        _table(f"{env_a} vs {env_b}", ["package", str(env_a), str(env_b)],
               [[r["name"], r["a"] or "-", r["b"] or "-"] for r in rows])
    else:
        click.echo("no differences")
    if rows:
        sys.exit(int(Exit.UNHEALTHY))


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Run COMMAND inside the environment (its bin first on PATH, [env] variables set).

    The exit code is COMMAND's.

    \b
    Example:
      envman run -- python -c 'import sys; print(sys.prefix)'
    """
    context = _ctx(ctx)
    env = envs.run_env(context)
    try:
        code = subprocess.call(list(command), env=env)
    except FileNotFoundError:
        from envman.errors import NoEnvError

        raise NoEnvError(f"command not found in the environment: {command[0]}") from None
    ctx.exit(code)


@cli.command()
@click.option("--locks", is_flag=True, help="Also remove .envman/ (generated files and locks).")
@click.pass_context
def clean(ctx: click.Context, locks: bool) -> None:
    """Remove the environment and leftovers of interrupted creates."""
    removed = envs.clean(_ctx(ctx), locks)
    click.echo("nothing to remove" if not removed else
               "removed " + ", ".join(str(p) for p in removed))


@cli.command(name="export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="requirements",
              show_default=True, help="What to write.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write (default: the project directory).")
@click.option("--stdout", "to_stdout", is_flag=True, help="Print instead of writing files.")
@click.option("--force", is_flag=True, help="Overwrite existing files that differ.")
@click.option("--platform", type=click.Choice(sorted(PLATFORMS)),
              help="Platform the exported lock is resolved for (default: envman.toml "
                   f"[docker] platform, else {DEFAULT_PLATFORM}).")
@_group_opts
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, output_dir: Path | None, to_stdout: bool,
               force: bool, platform: str | None, dev: bool, groups: tuple[str, ...]) -> None:
    """Export the locked environment: requirements.txt, conda environment.yml, Dockerfile
    (+ .dockerignore + requirements.txt), docker-compose.yml or a devcontainer.

    Dev dependencies are left out unless --dev is given. requirements, conda and dockerfile
    resolve the lock again for the image's platform (Linux); requirements and the Dockerfile
    carry sha256 hashes and the Dockerfile installs with --require-hashes. Existing files
    with other content are not overwritten without --force (exit 6).

    \b
    Examples:
      envman export --format conda --stdout
      envman export --format dockerfile --output-dir deploy/ --platform linux/arm64
    """
    context = _ctx(ctx)
    explicit_dev = ctx.get_parameter_source("dev") == click.core.ParameterSource.COMMANDLINE
    files = project.export_files(context, fmt, dev and explicit_dev, groups, platform)
    if to_stdout:
        for rel, text in files.items():
            if len(files) > 1:
                click.echo(f"# ---- {rel}")
            click.echo(text, nl=False)
        return
    for path in project.write_files(output_dir or context.project, files, force):
        click.echo(f"wrote {path}")


@cli.group()
def docker() -> None:
    """Container images of the environment."""


@docker.command(name="build")
@click.option("--tag", help="Image tag (default: <project name>:latest).")
@click.option("--force", is_flag=True, help="Overwrite an existing Dockerfile that differs.")
@click.pass_context
def docker_build(ctx: click.Context, tag: str | None, force: bool) -> None:
    """Export the Dockerfile and build it with docker, else buildah, else say why not.

    An existing Dockerfile (or .dockerignore, requirements.lock.txt) with other content is
    not overwritten without --force (exit 6).
    """
    context = _ctx(ctx.find_root())
    files = project.export_files(context, "dockerfile", False, ())
    project.write_files(context.project, files, force)
    engine = containers.detect_engine()
    image = tag or f"{context.spec.project.name}:latest"
    click.echo(f"building {image} with {engine.name}")
    containers.build(engine, context.project, image, context.settings.timeout,
                     project.export_platform(context, None))
    click.echo(f"built {image}")


@cli.group()
def config() -> None:
    """User and project configuration."""


@config.command(name="show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def config_show(ctx: click.Context, as_json: bool) -> None:
    """The merged settings and where each value came from.

    Order (last wins): defaults < user config < envman.toml [settings] < ENVMAN_* variables.
    """
    from envman.config import user_config_path

    rows: list[dict[str, Any]] = []
    try:
        root = find_project(ctx.find_root().obj["dir"])
        spec = load_spec(root / SPEC_FILE)
        loaded = load_settings(spec.settings, f"{root / SPEC_FILE} [settings]")
        rows += [{"key": f"project.{k}", "value": v, "source": str(root / SPEC_FILE)}
                 for k, v in (("backend", spec.project.backend),
                              ("python", spec.project.python), ("name", spec.project.name))]
    except click.ClickException as exc:
        if getattr(exc, "exit_code", None) != Exit.NO_PROJECT:
            raise
        loaded = load_settings()
    values = loaded.settings.model_dump(mode="json")
    rows += [{"key": k, "value": values[k], "source": loaded.sources[k]} for k in values]
    if as_json:
        echo_json({"user_config": str(user_config_path()), "settings": rows})
        return
    _table(f"config (user file: {user_config_path()})", ["key", "value", "source"],
           [[r["key"], r["value"], r["source"]] for r in rows])


main = cli
