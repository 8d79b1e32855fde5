"""Build a learner's starter kit from a reference exercise (`make starter`, `aiinfra starter`).

The kit is a small monorepo, the same shape as a sparse checkout of this one: `shared/`, the
root `pyproject.toml` (tool settings) and the exercise folder at its usual path, so the
exercise's `../../shared` path dependency and its `uv.lock` work unchanged (`uv sync --locked`).
In the exercise folder every solution region becomes `raise NotImplementedError(hint)` and the
hidden tests are gone; README, pyproject, lock, Dockerfile, docs and the visible tests stay.
`STARTER.md` lists what to implement, file by file.

The kit is assembled in a temporary folder beside OUT and renamed into place at the end, so a
failure (a malformed marker, say) leaves nothing half-written.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aiinfra_shared.grading.markers import MarkerError, Region, strip_hidden_tests, strip_solutions
from aiinfra_shared.workspace.exercises import Exercise

COPY_IGNORE = shutil.ignore_patterns(
    ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "reports", "*.pyc",
    ".aiinfra-cache",
)


class StarterError(RuntimeError):
    """The starter kit cannot be built (bad output folder, malformed markers)."""


@dataclass
class StarterReport:
    """What the starter generation did, for the command's summary."""

    out: Path
    regions: dict[str, list[Region]] = field(default_factory=dict)  # relpath -> regions
    hidden_removed: int = 0
    hidden_files: list[str] = field(default_factory=list)

    @property
    def region_count(self) -> int:
        return sum(len(r) for r in self.regions.values())


def _transform_sources(folder: Path, report: StarterReport) -> None:
    """Strip solutions from every .py outside tests/ and hidden tests from tests/."""
    for path in sorted(folder.rglob("*.py")):
        rel = path.relative_to(folder).as_posix()
        text = path.read_text()
        if rel.startswith("tests/"):
            kept, removed = strip_hidden_tests(text, rel)
            report.hidden_removed += removed
            if kept is None:
                path.unlink()
                report.hidden_files.append(rel)
            elif removed:
                path.write_text(kept)
            continue
        stripped, regions = strip_solutions(text, rel)
        if regions:
            path.write_text(stripped)
            report.regions[rel] = regions


def _starter_notes(exercise: Exercise, report: StarterReport) -> str:
    lines = [
        f"# Starter kit for exercise {exercise.code}",
        "",
        "Each item below is a `raise NotImplementedError(...)` where the reference solution has "
        "code. Implement them, then run `make test` in this folder: the visible tests tell you "
        "how far you are. The grader also runs hidden tests (edge cases and robustness) that "
        "are not in this kit.",
        "",
    ]
    for rel, regions in report.regions.items():
        lines.append(f"## `{rel}`")
        lines += [f"- line {region.begin}: {region.hint}" for region in regions]
        lines.append("")
    return "\n".join(lines)


def build_starter(root: Path, exercise: Exercise, out: Path) -> StarterReport:
    """Write the starter kit of `exercise` to `out` (which must not exist, or be empty)."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StarterError(f"{out} already exists and is not an empty folder")
    if exercise.path.resolve() in (out, *out.parents):
        raise StarterError(f"{out} is inside the reference exercise")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shutil.copytree(root / "shared", staging / "shared", ignore=COPY_IGNORE)
        shutil.copy2(root / "pyproject.toml", staging / "pyproject.toml")
        if (root / ".gitignore").is_file():
            shutil.copy2(root / ".gitignore", staging / ".gitignore")
        target = staging / exercise.relpath
        shutil.copytree(exercise.path, target, ignore=COPY_IGNORE, symlinks=True)
        report = StarterReport(out=out)
        try:
            _transform_sources(target, report)
        except MarkerError as exc:
            raise StarterError(str(exc)) from exc
        if not report.regions:
            raise StarterError(f"exercise {exercise.code} has no '# BEGIN SOLUTION' regions: "
                               "nothing for a learner to write")
        (target / "STARTER.md").write_text(_starter_notes(exercise, report))
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report
