"""`aiinfra`: the monorepo's own command line (used by the root Makefile)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click
from rich.console import Console
from rich.table import Table

from aiinfra_shared.cli import AppGroup, CLIError, ExitCode, NotFoundError, echo_json
from aiinfra_shared.grading.starter import StarterError, build_starter
from aiinfra_shared.workspace.exercises import (
    ExerciseNotFoundError,
    affected,
    discover,
    find_repo_root,
    resolve,
)
from aiinfra_shared.workspace.scaffold import ScaffoldError, render_skeleton
from aiinfra_shared.workspace.test_all import render_table, run_all


def _root() -> Path:
    try:
        return find_repo_root()
    except ExerciseNotFoundError as exc:
        raise NotFoundError(str(exc)) from exc


@click.group(cls=AppGroup)
def cli() -> None:
    """Tools for the AI infrastructure curriculum monorepo."""


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cmd(as_json: bool) -> None:
    """List the exercises: code, folder, package, console scripts."""
    root = _root()
    rows: list[dict[str, Any]] = [{"code": ex.code, "path": ex.relpath, "package": ex.package,
             "scripts": ex.scripts} for ex in discover(root)]
    if as_json:
        echo_json(rows)
        return
    table = Table(title=f"{len(rows)} exercises")
    for column in ("code", "path", "package", "cli"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["code"], row["path"], row["package"], ", ".join(row["scripts"]))
    Console().print(table)


@cli.command("resolve")
@click.argument("spec")
def resolve_cmd(spec: str) -> None:
    """Print the folder of exercise SPEC (a code like 110-02 or a path)."""
    try:
        click.echo(resolve(_root(), spec).relpath)
    except ExerciseNotFoundError as exc:
        raise NotFoundError(str(exc)) from exc



@cli.command()
@click.option("--ex", "specs", multiple=True, help="Only these exercises (repeatable).")
@click.option("--no-shared", is_flag=True, help="Skip the shared library's own tests.")
@click.option("--pytest-args", default="", help="Extra arguments for every pytest run.")
def test_all(specs: tuple[str, ...], no_shared: bool, pytest_args: str) -> None:
    """Run every test suite (shared + all exercises), print a summary, write reports/."""
    root = _root()
    try:
        only = [resolve(root, spec) for spec in specs] if specs else None
    except ExerciseNotFoundError as exc:
        raise NotFoundError(str(exc)) from exc
    results = run_all(root, only=only, include_shared=not no_shared,
                      extra_pytest_args=pytest_args)
    click.echo("\n" + render_table(results))
    click.echo(f"reports: {root / 'reports' / 'test-all.json'}, {root / 'reports' / 'junit'}/")
    if not all(r.ok for r in results):
        sys.exit(ExitCode.FAILURE)


@cli.command()
@click.option("--path", "relpath", required=True,
              help="Folder to create, e.g. mod-101-foundations/exercise-04-python-env-manager.")
@click.option("--package", required=True, help="Python package and CLI name, e.g. envman.")
@click.option("--title", default=None, help="Human title (default: from the folder slug).")
@click.option("--no-lock", is_flag=True, help="Do not run `uv lock` afterwards.")
def new(relpath: str, package: str, title: str | None, no_lock: bool) -> None:
    """Create a new exercise from the standard skeleton."""
    try:
        target = render_skeleton(_root(), relpath, package, title, lock=not no_lock)
    except ScaffoldError as exc:
        raise CLIError(str(exc), ExitCode.USAGE) from exc
    click.echo(f"created {target}")


@cli.command()
@click.option("--exercise", "spec", required=True, help="Exercise code (101-04) or folder.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Folder to create (must not exist, or be empty).")
def starter(spec: str, out: Path) -> None:
    """Build the learner's starter kit of an exercise.

    The kit holds shared/, the root pyproject.toml and the exercise at its usual path; in the
    exercise every '# BEGIN SOLUTION' region becomes raise NotImplementedError(hint) and the
    hidden tests are removed. STARTER.md lists what to implement.

    \b
    Example:
      aiinfra starter --exercise 101-04 --out ../envman-starter
      cd ../envman-starter/mod-101-foundations/exercise-04-python-env-manager && make test
    """
    root = _root()
    try:
        exercise = resolve(root, spec)
    except ExerciseNotFoundError as exc:
        raise NotFoundError(str(exc)) from exc
    try:
        report = build_starter(root, exercise, out)
    except StarterError as exc:
        raise CLIError(str(exc), ExitCode.USAGE) from exc
    click.echo(f"starter kit for {exercise.code}: {report.region_count} solution regions in "
               f"{len(report.regions)} files, {report.hidden_removed} hidden tests removed")
    click.echo(f"  {report.out / exercise.relpath}")


@cli.command("ci-matrix")
@click.argument("changed_files", type=click.File("r"), default="-")
def ci_matrix(changed_files: TextIO) -> None:
    """Print the GitHub Actions test matrix for a list of changed files (one per line).

    A line "ALL", or any change under shared/, .github/, .ci/ or the root Makefile or
    pyproject.toml, selects every exercise.
    """
    changed = [line.strip() for line in changed_files if line.strip()]
    selected = affected(_root(), changed)
    include = [{"code": ex.code, "path": ex.relpath} for ex in selected]
    click.echo(json.dumps({"include": include}, separators=(",", ":")))


main = cli
