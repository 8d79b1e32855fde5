"""Build the grading workspace, install the submission, run the reference tests.

Workspace layout mirrors the monorepo so the exercise's `../../shared` path dependency
resolves:  <tmp>/shared -> <repo>/shared (symlink), <tmp>/<module>/<exercise>/ = submission
with the reference-owned files (tests/ and the declared oracles) laid over it.

What the submission cannot change, and how:
* pytest configuration: pytest runs with `-c` on a copy of the REFERENCE pyproject.toml, so
  the submission's `[tool.pytest.ini_options]`, pytest.ini, tox.ini and setup.cfg are never
  read; `--rootdir` keeps node ids identical to the reference collection's.
* conftest.py: every conftest.py outside tests/ is deleted from the workspace and
  `--confcutdir=tests` stops pytest from looking above tests/.
* plugins: `PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`, then `-p` for exactly the plugins that
  entry points loaded in the reference's environment; PYTEST_ADDOPTS/PYTEST_PLUGINS are
  dropped from the environment.
* skips: scored by `results.build_report` (only the plugin's declared gpu/external skips
  are left out of the score).
The grader does not sandbox the submission's own code, which runs in the test process: it
defends against configuration-level gaming, not against code written to tamper with pytest.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
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
                                 ".ruff_cache", "reports")
INSTALL_TIMEOUT_S = 1800
DEFAULT_TEST_TIMEOUT_S = 300
ALWAYS_REFERENCE = ("tests/**",)
_PYTEST_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
               "VIRTUAL_ENV")


class GradingError(RuntimeError):
    """The grading itself could not run (reference broken, bad arguments): not a score."""


class SubmissionNotFoundError(GradingError):
    """The submission folder is missing or holds no exercise (no pyproject.toml)."""


@dataclass(frozen=True)
class GradingConfig:
    """What the reference exercise declares for grading (`[tool.aiinfra.grading]`)."""

    reference_files: tuple[str, ...] = ALWAYS_REFERENCE
    test_timeout: int = DEFAULT_TEST_TIMEOUT_S
    pytest_ini: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, exercise_dir: Path) -> GradingConfig:
        data = tomllib.loads((exercise_dir / "pyproject.toml").read_text())
        tool = data.get("tool", {})
        declared = tool.get("aiinfra", {}).get("grading", {}).get("reference-files", [])
        if not isinstance(declared, list) or not all(isinstance(g, str) for g in declared):
            raise GradingError(f"{exercise_dir}/pyproject.toml: [tool.aiinfra.grading] "
                               "reference-files must be a list of glob strings")
        ini = dict(tool.get("pytest", {}).get("ini_options", {}))
        timeout = int(ini.get("timeout", DEFAULT_TEST_TIMEOUT_S))
        globs = tuple(dict.fromkeys([*ALWAYS_REFERENCE, *declared]))
        return cls(reference_files=globs, test_timeout=timeout, pytest_ini=ini)


@dataclass(frozen=True)
class Collection:
    """The reference tests (node id, points, hidden, xfail) and the plugins they load."""

    tests: list[dict[str, Any]]
    plugins: list[str]


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def collect_expected(reference: Path, select: Sequence[str] = ()) -> Collection:
    """Collect the reference tests (in the reference's own env) with their points."""
    with tempfile.TemporaryDirectory(prefix="aiinfra-collect-") as tmp:
        out = Path(tmp) / "expected.json"
        env = {k: v for k, v in os.environ.items() if k not in _PYTEST_ENV}
        sync = subprocess.run(["uv", "sync", "--locked", "--quiet"], cwd=reference, env=env,
                              capture_output=True, text=True, check=False,
                              timeout=INSTALL_TIMEOUT_S)
        if sync.returncode != 0:
            raise GradingError(f"reference {reference} does not install: {_tail(sync.stderr)}")
        result = subprocess.run(
            ["uv", "run", "--no-sync", "pytest", "--collect-only", "-q", "-p",
             "no:cacheprovider", f"--aiinfra-collect={out}", *select],
            cwd=reference, env=env, capture_output=True, text=True, check=False, timeout=600,
        )
        if result.returncode != 0 or not out.is_file():
            raise GradingError("cannot collect the reference tests: "
                              f"{_tail(result.stdout + result.stderr)}")
        data = json.loads(out.read_text())
        return Collection(tests=list(data["tests"]), plugins=list(data.get("plugins", [])))


def locate_submission(submission: Path, relpath: str) -> Path | None:
    """The submission's exercise folder: SUBMISSION itself, or SUBMISSION/<relpath>."""
    for candidate in (submission / relpath, submission):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return None


def _matches(relpath: str, globs: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(relpath, g) or (g.endswith("/**") and (
        relpath == g[:-3] or relpath.startswith(g[:-2]))) for g in globs)


def overlay_reference_files(reference_dir: Path, target: Path, globs: Sequence[str]) -> list[str]:
    """Copy every reference file matching `globs` over the submission; drop the
    submission's own files there (so a learner cannot add a test module or oracle either).

    Returns the overlaid paths, relative to the exercise folder.
    """
    for path in sorted(target.rglob("*"), reverse=True):
        rel = path.relative_to(target).as_posix()
        if path.is_file() and _matches(rel, globs):
            path.unlink()
    copied: list[str] = []
    for path in sorted(reference_dir.rglob("*")):
        rel = path.relative_to(reference_dir).as_posix()
        if (not path.is_file() or "__pycache__" in path.parts or ".venv" in path.parts
                or not _matches(rel, globs)):
            continue
        destination = target / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        copied.append(rel)
    return copied


def remove_foreign_conftests(target: Path) -> list[str]:
    """Delete every conftest.py outside tests/: only the reference's conftests may run."""
    removed = []
    for path in target.rglob("conftest.py"):
        rel = path.relative_to(target).as_posix()
        if not rel.startswith("tests/") and ".venv" not in path.parts:
            path.unlink()
            removed.append(rel)
    return removed


def prepare_workspace(root: Path, reference: Exercise, submission_dir: Path,
                      workspace: Path, config: GradingConfig) -> Path:
    """Lay out the submission with the reference-owned files, as the monorepo would."""
    (workspace / "shared").symlink_to(root / "shared", target_is_directory=True)
    shutil.copy2(root / "pyproject.toml", workspace / "pyproject.toml")
    target = workspace / reference.relpath
    shutil.copytree(submission_dir, target, ignore=_IGNORE, symlinks=False)
    overlay_reference_files(reference.path, target, config.reference_files)
    remove_foreign_conftests(target)
    grading_dir = workspace / ".grading"
    grading_dir.mkdir()
    shutil.copy2(reference.path / "pyproject.toml", grading_dir / "reference-pyproject.toml")
    return target


def pytest_command(workspace: Path, target: Path, collection: Collection, timeout: int,
                   select: Sequence[str], junit: Path, raw: Path) -> list[str]:
    """The pytest invocation: reference config, reference plugins, nothing of the submission."""
    plugins = [arg for name in collection.plugins for arg in ("-p", name)]
    return ["uv", "run", "--no-sync", "pytest",
            "-c", str(workspace / ".grading" / "reference-pyproject.toml"),
            f"--rootdir={target}", f"--confcutdir={target / 'tests'}",
            *plugins, "-p", "no:cacheprovider", "--continue-on-collection-errors",
            f"--timeout={timeout}", f"--junitxml={junit}", f"--aiinfra-results={raw}",
            *(select or ["tests"])]


def _publish(report: GradeReport, out_dir: Path, junit: Path | None, log: str) -> None:
    """Write the reports into a temporary folder beside `out_dir`, then swap it in."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        write_outputs(report, staging, junit, log)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def grade(exercise_dir: Path, submission: Path, out_dir: Path,
          per_test_timeout: int | None = None, select: Sequence[str] = ()) -> GradeReport:
    """Grade `submission` against the reference exercise at `exercise_dir`.

    `per_test_timeout` defaults to the exercise's own pytest `timeout`; `select` limits the
    run to some of the reference tests (paths or node ids relative to the exercise).
    """
    started = time.monotonic()
    exercise_dir = exercise_dir.resolve()
    root = find_repo_root(exercise_dir)
    reference = Exercise(root=root, path=exercise_dir)
    if not (exercise_dir / "tests").is_dir():
        raise GradingError(f"{exercise_dir} has no tests/ folder")
    if not submission.is_dir():
        raise SubmissionNotFoundError(f"submission {submission} is not a directory")
    submission_dir = locate_submission(submission.resolve(), reference.relpath)
    if submission_dir is None:
        raise SubmissionNotFoundError(
            f"submission {submission} has no pyproject.toml (give the exercise folder or a "
            f"repository containing {reference.relpath})")
    config = GradingConfig.load(exercise_dir)
    timeout = per_test_timeout or config.test_timeout
    collection = collect_expected(exercise_dir, select)
    expected = collection.tests
    if not expected:
        raise GradingError("the reference exercise collected no tests")

    def finish(report: GradeReport, junit: Path | None = None, log: str = "") -> GradeReport:
        report.execution_time = time.monotonic() - started
        _publish(report, out_dir, junit, log)
        return report

    with tempfile.TemporaryDirectory(prefix="aiinfra-grade-") as tmp:
        workspace = Path(tmp)
        target = prepare_workspace(root, reference, submission_dir, workspace, config)
        env = {k: v for k, v in os.environ.items() if k not in _PYTEST_ENV}
        env |= {"UV_PROJECT_ENVIRONMENT": str(target / ".venv"),
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        install = subprocess.run(["uv", "sync", "--quiet"], cwd=target, env=env,
                                 capture_output=True, text=True, check=False,
                                 timeout=INSTALL_TIMEOUT_S)
        if install.returncode != 0:
            problem = f"submission does not install (uv sync failed):\n{_tail(install.stderr)}"
            return finish(failed_report(reference.code, expected, problem, 0.0))

        raw_path = workspace / "raw.json"
        junit_path = workspace / "junit.xml"
        overall_timeout = max(1800, timeout * len(expected))
        command = pytest_command(workspace, target, collection, timeout, select, junit_path,
                                 raw_path)
        try:
            run = subprocess.run(command, cwd=target, env=env, capture_output=True, text=True,
                                 check=False, timeout=overall_timeout)
            log = run.stdout + run.stderr
        except subprocess.TimeoutExpired:
            log = f"the test run exceeded {overall_timeout}s and was stopped"
        if not raw_path.is_file():
            problem = f"the tests could not run against the submission:\n{_tail(log)}"
            return finish(failed_report(reference.code, expected, problem, 0.0), log=log)
        raw = json.loads(raw_path.read_text())["tests"]
        report = build_report(reference.code, expected, raw, 0.0)
        return finish(report, junit_path, log)
