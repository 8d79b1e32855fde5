"""Build the grading workspace, install the submission, run the reference tests.

Workspace layout mirrors the monorepo so the exercise's `../../shared` path dependency
resolves:  <tmp>/shared -> <repo>/shared (symlink), <tmp>/<module>/<exercise>/ = submission
with its tests/ replaced by the reference tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from aiinfra_shared.grading.results import (
    GradeReport,
    build_report,
    failed_report,
    write_outputs,
)
from aiinfra_shared.workspace.exercises import Exercise, find_repo_root

_IGNORE = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".mypy_cache",
                                 ".ruff_cache", "reports", "tests")
INSTALL_TIMEOUT_S = 1800


class GradingError(RuntimeError):
    """The grading itself could not run (reference broken, bad arguments): not a score."""


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def collect_expected(reference: Path) -> list[dict[str, Any]]:
    """Collect the reference tests (in the reference's own env) with their points."""
    with tempfile.TemporaryDirectory(prefix="aiinfra-collect-") as tmp:
        out = Path(tmp) / "expected.json"
        sync = subprocess.run(["uv", "sync", "--locked", "--quiet"], cwd=reference,
                              capture_output=True, text=True, check=False,
                              timeout=INSTALL_TIMEOUT_S)
        if sync.returncode != 0:
            raise GradingError(f"reference {reference} does not install: {_tail(sync.stderr)}")
        result = subprocess.run(
            ["uv", "run", "--no-sync", "pytest", "--collect-only", "-q", "-p",
             "no:cacheprovider", f"--aiinfra-collect={out}"],
            cwd=reference, capture_output=True, text=True, check=False, timeout=600,
        )
        if result.returncode != 0 or not out.is_file():
            raise GradingError(f"cannot collect the reference tests: {_tail(result.stdout)}")
        return list(json.loads(out.read_text())["tests"])


def locate_submission(submission: Path, relpath: str) -> Path | None:
    """The submission's exercise folder: SUBMISSION itself, or SUBMISSION/<relpath>."""
    for candidate in (submission / relpath, submission):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return None


def prepare_workspace(root: Path, reference: Exercise, submission_dir: Path,
                      workspace: Path) -> Path:
    """Lay out the submission with the reference tests, as the monorepo would."""
    (workspace / "shared").symlink_to(root / "shared", target_is_directory=True)
    shutil.copy2(root / "pyproject.toml", workspace / "pyproject.toml")
    target = workspace / reference.relpath
    shutil.copytree(submission_dir, target, ignore=_IGNORE, symlinks=True)
    shutil.copytree(reference.path / "tests", target / "tests",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return target


def grade(exercise_dir: Path, submission: Path, out_dir: Path,
          per_test_timeout: int = 120) -> GradeReport:
    """Grade `submission` against the reference exercise at `exercise_dir`."""
    started = time.monotonic()
    exercise_dir = exercise_dir.resolve()
    root = find_repo_root(exercise_dir)
    reference = Exercise(root=root, path=exercise_dir)
    if not (exercise_dir / "tests").is_dir():
        raise GradingError(f"{exercise_dir} has no tests/ folder")
    if not submission.is_dir():
        raise GradingError(f"submission {submission} is not a directory")
    expected = collect_expected(exercise_dir)
    if not expected:
        raise GradingError("the reference exercise collected no tests")

    def finish(report: GradeReport, junit: Path | None = None) -> GradeReport:
        report.execution_time = time.monotonic() - started
        write_outputs(report, out_dir, junit)
        return report

    submission_dir = locate_submission(submission.resolve(), reference.relpath)
    if submission_dir is None:
        problem = (f"submission {submission} has no pyproject.toml (expected the exercise "
                   f"folder or a repository containing {reference.relpath})")
        return finish(failed_report(reference.code, expected, problem, 0.0))

    with tempfile.TemporaryDirectory(prefix="aiinfra-grade-") as tmp:
        workspace = Path(tmp)
        target = prepare_workspace(root, reference, submission_dir, workspace)
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(target / ".venv")}
        env.pop("VIRTUAL_ENV", None)
        install = subprocess.run(["uv", "sync", "--quiet"], cwd=target, env=env,
                                 capture_output=True, text=True, check=False,
                                 timeout=INSTALL_TIMEOUT_S)
        if install.returncode != 0:
            problem = f"submission does not install (uv sync failed):\n{_tail(install.stderr)}"
            return finish(failed_report(reference.code, expected, problem, 0.0))

        raw_path = workspace / "raw.json"
        junit_path = workspace / "junit.xml"
        overall_timeout = max(600, per_test_timeout * len(expected))
        try:
            run = subprocess.run(
                ["uv", "run", "--no-sync", "pytest", "tests", "-p", "no:cacheprovider",
                 "--continue-on-collection-errors",
                 f"--timeout={per_test_timeout}", f"--junitxml={junit_path}",
                 f"--aiinfra-results={raw_path}"],
                cwd=target, env=env, capture_output=True, text=True, check=False,
                timeout=overall_timeout,
            )
            log = run.stdout + run.stderr
        except subprocess.TimeoutExpired:
            log = f"the test run exceeded {overall_timeout}s and was stopped"
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "pytest.log").write_text(log)
        if not raw_path.is_file():
            problem = f"the tests could not run against the submission:\n{_tail(log)}"
            return finish(failed_report(reference.code, expected, problem, 0.0))
        raw = json.loads(raw_path.read_text())["tests"]
        report = build_report(reference.code, expected, raw, 0.0)
        return finish(report, junit_path)
