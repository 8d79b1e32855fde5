"""Answers to a template's questions: typed validation (pydantic) before anything is written,
`--set key=value` parsing, and the `.mlscaffold-answers.yml` file kept in every project."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from aiinfra_shared.config import ConfigError, format_validation_error, read_config_file
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from mlscaffold.templates import Question, Template

ANSWERS_FILE = ".mlscaffold-answers.yml"
PROJECT_NAME_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
RESERVED_NAMES = {"test", "tests", "src", "site", "typing", "fastapi", "torch", "sklearn"}


class AnswersError(ValueError):
    """Answers failed validation; the message has one line per problem."""


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_name: str = Field(pattern=PROJECT_NAME_PATTERN, max_length=50)

    @model_validator(mode="after")
    def _cross_checks(self) -> _Base:
        # BEGIN SOLUTION: reject reserved project names and max_replicas below min_replicas
        if self.project_name.replace("-", "_") in RESERVED_NAMES:
            raise ValueError(f"project name {self.project_name!r} shadows a common package")
        low, high = getattr(self, "min_replicas", None), getattr(self, "max_replicas", None)
        if low is not None and high is not None and high < low:
            raise ValueError(f"max_replicas ({high}) must be >= min_replicas ({low})")
        return self
        # END SOLUTION


def _field_type(question: Question) -> Any:
    # BEGIN SOLUTION: map the question type to a pydantic type with its bounds or pattern
    constraints: dict[str, Any] = {}
    if question.min is not None:
        constraints["ge"] = question.min
    if question.max is not None:
        constraints["le"] = question.max
    if question.type == "int":
        return Annotated[int, Field(strict=False, **constraints)]
    if question.type == "float":
        return Annotated[float, Field(**constraints)]
    if question.type == "bool":
        return bool
    if question.type == "choice":
        return Literal[tuple(question.choices or ())]
    return Annotated[str, Field(pattern=question.pattern, min_length=1)] if question.pattern \
        else str
    # END SOLUTION


def answers_model(template: Template) -> type[BaseModel]:
    """A pydantic model of the template's questions (unknown keys are rejected)."""
    # BEGIN SOLUTION: create a pydantic model with one field per question (default, help)
    fields: dict[str, Any] = {
        name: (_field_type(q), Field(default=q.default, description=q.help))
        for name, q in template.questions.items()
    }
    return create_model(f"{template.name.title().replace('-', '')}Answers", __base__=_Base,
                        **fields)
    # END SOLUTION


def validate_answers(template: Template, raw: dict[str, Any]) -> dict[str, Any]:
    """Validated answers with defaults filled in; AnswersError names every bad key."""
    # BEGIN SOLUTION: coerce YAML floats for choices, validate, one-line AnswersError
    model = answers_model(template)
    raw = dict(raw)
    for name, question in template.questions.items():
        # YAML reads `3.12` as a float; choices are strings.
        if question.type == "choice" and name in raw and not isinstance(raw[name], str):
            raw[name] = str(raw[name])
    try:
        return model.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        raise AnswersError(format_validation_error(exc, "answers").replace("\n", "; ")) from exc
    # END SOLUTION


def parse_set_options(items: tuple[str, ...] | list[str], template: Template) -> dict[str, Any]:
    """`key=value` strings; keys must be questions of the template (types checked later)."""
    # BEGIN SOLUTION: split key=value, reject unknown questions with the known ones
    values: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise AnswersError(f"--set {item!r}: expected key=value")
        if key not in template.questions:
            known = ", ".join(sorted(template.questions))
            raise AnswersError(f"--set {key}: unknown question for template {template.name!r} "
                               f"(known: {known})")
        values[key] = value
    return values
    # END SOLUTION


def read_answers_input(path: Path) -> dict[str, Any]:
    """An answers YAML/TOML given with --answers (may also be a project's answers file)."""
    data = read_config_file(path)
    return {k: v for k, v in data.items() if not k.startswith("_")}


def project_name_error(name: str) -> str | None:
    """Why `name` is not a valid project name, or None."""
    # BEGIN SOLUTION: explain why the name is invalid (pattern, length, reserved)
    if not re.match(PROJECT_NAME_PATTERN, name):
        return (f"invalid project name {name!r}: use lowercase letters, digits and single "
                "dashes, starting with a letter (e.g. iris-classifier)")
    if len(name) > 50:
        return f"invalid project name {name!r}: at most 50 characters"
    if name.replace("-", "_") in RESERVED_NAMES:
        return f"invalid project name {name!r}: it shadows a common package"
    return None
    # END SOLUTION


class AnswersRecord(BaseModel):
    """What `.mlscaffold-answers.yml` holds: template identity plus the validated answers."""

    model_config = ConfigDict(extra="forbid")

    template: str
    template_version: str
    mlscaffold_version: str
    answers: dict[str, Any]

    def to_yaml(self) -> str:
        header = ("# Written by mlscaffold: the template and answers this project was generated\n"
                  "# from. `mlscaffold update` reads it; edit answers here to change them.\n")
        payload = {"_template": self.template, "_template_version": self.template_version,
                   "_mlscaffold_version": self.mlscaffold_version, **self.answers}
        return header + yaml.safe_dump(payload, sort_keys=False)

    @classmethod
    def read(cls, project: Path) -> AnswersRecord:
        path = project / ANSWERS_FILE
        if not path.is_file():
            raise ConfigError(f"{project} was not generated by mlscaffold (no {ANSWERS_FILE})")
        data = read_config_file(path)
        try:
            return cls(template=data.get("_template", ""),
                       template_version=str(data.get("_template_version", "")),
                       mlscaffold_version=str(data.get("_mlscaffold_version", "")),
                       answers={k: v for k, v in data.items() if not k.startswith("_")})
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, str(path))) from exc
