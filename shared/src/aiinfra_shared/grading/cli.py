"""`aiinfra-grade`: command line for grading (also used by `make grade` and grade.yml)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aiinfra_shared.cli import AppCommand, CLIError, ExitCode, echo_json
from aiinfra_shared.grading.results import LEARNER_DIR
from aiinfra_shared.grading.runner import GradingError, SubmissionNotFoundError, grade
from aiinfra_shared.workspace.exercises import ExerciseNotFoundError, find_repo_root, resolve


@click.command(cls=AppCommand)
@click.option("--exercise", "exercise_spec", required=True,
              help="Reference exercise: a code (110-02) or its folder.")
@click.option("--submission", type=click.Path(path_type=Path), required=True,
              help="The learner's exercise folder (or a repository that contains it).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: reports/grade-<code>].")
@click.option("--timeout", "per_test_timeout", default=None, type=click.IntRange(min=1),
              help="Per-test timeout in seconds [default: the exercise's pytest timeout].")
@click.option("--select", "select", multiple=True,
              help="Run only these reference tests (path or node id under the exercise; "
                   "repeatable).")
@click.option("--fail-under", default=None, type=float,
              help="Exit 1 when the score is below this percentage.")
@click.option("--json", "as_json", is_flag=True, help="Print results.json to stdout.")
def cli(exercise_spec: str, submission: Path, out_dir: Path | None,
        per_test_timeout: int | None, select: tuple[str, ...], fail_under: float | None,
        as_json: bool) -> None:
    """Run the reference tests of an exercise against a learner's submission.

    The reference's tests, oracle files ([tool.aiinfra.grading] reference-files), pytest
    configuration and plugins are used; the submission's conftest.py files, pytest settings
    and plugins are not. A skip scores 0 unless it is a declared one (gpu, external).

    \b
    Writes into OUT (default reports/grade-<code>/):
      results.json, junit.xml, summary.md, pytest.log   full report, for the instructor
      learner/results.json, learner/summary.md          hidden tests counted, never named

    \b
    Examples:
      aiinfra-grade --exercise 101-04 --submission ../envman-submission
      aiinfra-grade --exercise 101-04 --submission ../envman-submission --select tests/unit
    """
    try:
        root = find_repo_root(Path(exercise_spec) if Path(exercise_spec).is_dir() else None)
        exercise = resolve(root, exercise_spec)
    except ExerciseNotFoundError as exc:
        raise CLIError(str(exc), ExitCode.NOT_FOUND) from exc
    out_dir = out_dir or root / "reports" / f"grade-{exercise.code}"
    try:
        report = grade(exercise.path, submission, out_dir, per_test_timeout, select)
    except SubmissionNotFoundError as exc:
        raise CLIError(str(exc), ExitCode.NOT_FOUND) from exc
    except GradingError as exc:
        raise CLIError(str(exc), ExitCode.FAILURE) from exc
    if as_json:
        echo_json(report.as_gradescope())
    else:
        click.echo(report.output_text())
        click.echo(f"results: {out_dir / 'results.json'} (learner-safe: "
                   f"{out_dir / LEARNER_DIR / 'results.json'})")
    if fail_under is not None and report.percent < fail_under:
        sys.exit(ExitCode.FAILURE)


main = cli
