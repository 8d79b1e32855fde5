"""`mlscaffold new`: validate answers, render in memory, then write the project atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def create(project: NewProject) -> None:
    write_new_project(project.target, project.files, record_for(project.template,
                                                                 project.answers))
