"""Build a learner's starter kit from a reference exercise (`make starter`, `aiinfra starter`).

The kit is a small monorepo, the same shape as a sparse checkout of this one: `shared/`, the
root `pyproject.toml` (tool settings) and the exercise folder at its usual path, so the
exercise's `../../shared` path dependency and its `uv.lock` work unchanged (`uv sync --locked`).
In the exercise folder every solution region becomes `raise NotImplementedError(hint)`, the
hidden tests are gone, and the non-Python files the learner writes (`[tool.aiinfra.grading]
learner-files`, e.g. Terraform modules) hold only a note; README, pyproject, lock, Dockerfile,
docs and the visible tests stay. Only what git would ship is copied (no caches, no
`.terraform/`, no demo state).
`STARTER.md` lists what to implement, file by file.

The kit is assembled in a temporary folder beside OUT and renamed into place at the end, so a
failure (a malformed marker, say) leaves nothing half-written.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from aiinfra_shared.grading.markers import MarkerError, Region, strip_hidden_tests, strip_solutions
from aiinfra_shared.workspace.exercises import Exercise

COPY_IGNORE = shutil.ignore_patterns(
    ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "reports", "*.pyc",
    ".aiinfra-cache",
)


# Learner-written files that are not Python (HCL modules, rule files...) are replaced by a
# one-line note in their own comment syntax; these are the endings we know it for.
_HASH_COMMENTS = (".tf", ".hcl", ".tfvars", ".py", ".sh", ".yaml", ".yml", ".toml", ".cfg",
                  ".ini", ".conf", "Dockerfile", "Containerfile", "Makefile")
LEARNER_FILE_NOTE = ("# Write this file: it is part of the exercise (see the README's learning "
                     "objectives and STARTER.md).\n")


class StarterError(RuntimeError):
    """The starter kit cannot be built (bad output folder, malformed markers)."""


def _copy_tree(source: Path, target: Path) -> None:
    """Copy what git would ship (tracked + untracked, not ignored), else all but caches.

    Build outputs such as `.terraform/` provider links or a demo's state never reach a kit.
    """
    listing = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                             cwd=source, capture_output=True, check=False)
    if listing.returncode != 0:
        shutil.copytree(source, target, ignore=COPY_IGNORE, symlinks=True)
        return
    for name in filter(None, listing.stdout.decode().split("\0")):
        path = source / name
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination, follow_symlinks=False)


def learner_file_globs(exercise_dir: Path) -> list[str]:
    """`[tool.aiinfra.grading] learner-files`: non-Python files the learner writes."""
    data = tomllib.loads((exercise_dir / "pyproject.toml").read_text())
    globs = data.get("tool", {}).get("aiinfra", {}).get("grading", {}).get("learner-files", [])
    if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
        raise StarterError(f"{exercise_dir}/pyproject.toml: [tool.aiinfra.grading] "
                           "learner-files must be a list of glob strings")
    return globs


def _blank_learner_files(folder: Path, globs: list[str], report: StarterReport) -> None:
    for glob in globs:
        matched = sorted(p for p in folder.glob(glob) if p.is_file())
        if not matched:
            raise StarterError(f"learner-files glob '{glob}' matches no file")
        for path in matched:
            rel = path.relative_to(folder).as_posix()
            if not path.name.endswith(_HASH_COMMENTS):
                raise StarterError(f"{rel}: cannot blank a learner file of this type (no known "
                                   "comment syntax)")
            path.write_text(LEARNER_FILE_NOTE)
            report.learner_files.append(rel)


@dataclass
class StarterReport:
    """What the starter generation did, for the command's summary."""

    out: Path
    regions: dict[str, list[Region]] = field(default_factory=dict)  # relpath -> regions
    hidden_removed: int = 0
    hidden_files: list[str] = field(default_factory=list)
    learner_files: list[str] = field(default_factory=list)  # blanked non-Python files

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
    if report.learner_files:
        lines += ["## Files to write", "", "These hold only a note in the kit; the README "
                  "says what each must contain.", ""]
        lines += [f"- `{rel}`" for rel in report.learner_files]
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
        _copy_tree(root / "shared", staging / "shared")
        shutil.copy2(root / "pyproject.toml", staging / "pyproject.toml")
        if (root / ".gitignore").is_file():
            shutil.copy2(root / ".gitignore", staging / ".gitignore")
        target = staging / exercise.relpath
        _copy_tree(exercise.path, target)
        report = StarterReport(out=out)
        try:
            _transform_sources(target, report)
        except MarkerError as exc:
            raise StarterError(str(exc)) from exc
        _blank_learner_files(target, learner_file_globs(exercise.path), report)
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
