"""`mlscaffold new`: validate answers, render in memory, then write the project atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlscaffold.adapters.project_env import lock_project
from mlscaffold.answers import validate_answers
from mlscaffold.render import check_target, record_for, render_files, write_new_project
from mlscaffold.templates import Template


@dataclass(frozen=True)
class NewProject:
    template: Template
    answers: dict[str, Any]
    files: dict[str, str]
    target: Path


def plan_new(template: Template, raw_answers: dict[str, Any], target: Path) -> NewProject:
    """Everything `new` will write, with nothing written yet (answers validated first)."""
    check_target(target)
    answers = validate_answers(template, raw_answers)
    return NewProject(template, answers, render_files(template, answers), target)


def create(project: NewProject, lock: bool = True, uv_timeout_s: float = 600.0) -> None:
    """Write the project; with `lock`, `uv lock` runs in the staging folder first, so the
    project appears with the `uv.lock` its Dockerfile and CI (`uv sync --locked`) need, or
    not at all if locking fails."""
    finalize = (lambda staging: lock_project(staging, uv_timeout_s)) if lock else None
    write_new_project(project.target, project.files,
                      record_for(project.template, project.answers), finalize)
