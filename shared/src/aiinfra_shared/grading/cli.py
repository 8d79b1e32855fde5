"""`aiinfra-grade`: command line for grading (also used by `make grade` and grade.yml)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aiinfra_shared.cli import AppCommand, CLIError, ExitCode, echo_json
from aiinfra_shared.grading.runner import GradingError, grade
from aiinfra_shared.workspace.exercises import ExerciseNotFoundError, find_repo_root, resolve


@click.command(cls=AppCommand)
@click.option("--exercise", "exercise_spec", required=True,
              help="Reference exercise: a code (110-02) or its folder.")
@click.option("--submission", type=click.Path(path_type=Path), required=True,
              help="The learner's exercise folder (or a repository that contains it).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: reports/grade-<code>].")
@click.option("--timeout", "per_test_timeout", default=120, show_default=True,
              help="Per-test timeout in seconds.")
@click.option("--fail-under", default=None, type=float,
              help="Exit 1 when the score is below this percentage.")
@click.option("--json", "as_json", is_flag=True, help="Print results.json to stdout.")
def cli(exercise_spec: str, submission: Path, out_dir: Path | None, per_test_timeout: int,
        fail_under: float | None, as_json: bool) -> None:
    """Run the reference tests of an exercise against a learner's submission.

    Writes results.json (Gradescope format), junit.xml and summary.md.

    \b
    Example:
      aiinfra-grade --exercise 101-04 --submission ../envman-submission
    """
    try:
        root = find_repo_root(Path(exercise_spec) if Path(exercise_spec).is_dir() else None)
        exercise = resolve(root, exercise_spec)
    except ExerciseNotFoundError as exc:
        raise CLIError(str(exc), ExitCode.NOT_FOUND) from exc
    out_dir = out_dir or root / "reports" / f"grade-{exercise.code}"
    try:
        report = grade(exercise.path, submission, out_dir, per_test_timeout)
    except GradingError as exc:
        raise CLIError(str(exc), ExitCode.FAILURE) from exc
    if as_json:
        echo_json(report.as_gradescope())
    else:
        click.echo(report.output_text())
        click.echo(f"results: {out_dir / 'results.json'}")
    if fail_under is not None and report.percent < fail_under:
        sys.exit(ExitCode.FAILURE)


main = cli
