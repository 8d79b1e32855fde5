"""Discover the exercises of the monorepo and resolve `EX=` arguments."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

_MODULE_RE = re.compile(r"^mod-(\d{3})-[a-z0-9-]+$")
_EXERCISE_RE = re.compile(r"^exercise-(\d{2})-[a-z0-9-]+$")
_CODE_RE = re.compile(r"^(\d{3})-(\d{2})$")


class ExerciseNotFoundError(LookupError):
    """`EX=` named no exercise."""


@dataclass(frozen=True)
class Exercise:
    """One exercise folder: `mod-110-llm/exercise-02-production-rag-system`."""

    root: Path  # repository root
    path: Path  # absolute folder

    @property
    def code(self) -> str:
        module = _MODULE_RE.match(self.path.parent.name)
        exercise = _EXERCISE_RE.match(self.path.name)
        assert module and exercise
        return f"{module.group(1)}-{exercise.group(1)}"

    @property
    def relpath(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    @property
    def project(self) -> dict[str, object]:
        data = tomllib.loads((self.path / "pyproject.toml").read_text())
        return dict(data.get("project", {}))

    @property
    def package(self) -> str:
        return str(self.project.get("name", self.path.name)).replace("-", "_")

    @property
    def scripts(self) -> list[str]:
        scripts = self.project.get("scripts", {})
        return sorted(scripts) if isinstance(scripts, dict) else []


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest folder above `start` holding `shared/` and a root `pyproject.toml`."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "shared" / "pyproject.toml").is_file() and (
            candidate / "pyproject.toml"
        ).is_file():
            return candidate
    raise ExerciseNotFoundError(f"no monorepo root (with shared/) above {here}")


def discover(root: Path) -> list[Exercise]:
    """Every `mod-NNN-*/exercise-NN-*` folder with a pyproject.toml, in catalog order."""
    found = []
    for module in sorted(root.glob("mod-*")):
        if not _MODULE_RE.match(module.name):
            continue
        for folder in sorted(module.glob("exercise-*")):
            if _EXERCISE_RE.match(folder.name) and (folder / "pyproject.toml").is_file():
                found.append(Exercise(root=root, path=folder))
    return found


def resolve(root: Path, spec: str) -> Exercise:
    """Resolve `110-02`, a folder path, or a folder name to one exercise."""
    spec = spec.strip().rstrip("/")
    if not spec:
        raise ExerciseNotFoundError("EX is empty: give a code like 110-02 or a folder path")
    exercises = discover(root)
    if _CODE_RE.match(spec):
        matches = [ex for ex in exercises if ex.code == spec]
    else:
        target = (root / spec).resolve() if not Path(spec).is_absolute() else Path(spec)
        matches = [ex for ex in exercises if ex.path == target or ex.path.name == spec]
    if not matches:
        known = ", ".join(ex.code for ex in exercises) or "none yet"
        raise ExerciseNotFoundError(f"no exercise '{spec}' (known: {known})")
    return matches[0]


# Changes to these paths can affect every exercise.
_GLOBAL_PREFIXES = ("shared/", ".github/", ".ci/", "Makefile", "pyproject.toml")


def affected(root: Path, changed: list[str]) -> list[Exercise]:
    """Exercises a change touches: all of them when shared or root tooling changed."""
    exercises = discover(root)
    if any(path == "ALL" or path.startswith(_GLOBAL_PREFIXES) for path in changed):
        return exercises
    return [ex for ex in exercises if any(path.startswith(ex.relpath + "/") for path in changed)]
