"""Template catalogue: each template is a folder with `template.yaml` (version, typed questions)
and `files/` (Jinja2 sources). `_common` holds the files and questions every template shares;
a template's own files and questions override them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from aiinfra_shared.config import ConfigError, format_validation_error
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

COMMON = "_common"
BUILTIN_DIR = Path(__file__).parent / "templates"

QuestionType = Literal["str", "int", "float", "bool", "choice"]


class Question(BaseModel):
    """One typed question, as declared in template.yaml."""

    model_config = ConfigDict(extra="forbid")

    type: QuestionType
    default: Any = None
    help: str = ""
    choices: list[str] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice question needs `choices`")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self


class TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    description: str
    questions: dict[str, Question] = Field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    """A loaded template: metadata, merged questions, and its file sources (common first)."""

    name: str
    version: str
    description: str
    questions: dict[str, Question]
    file_roots: tuple[Path, ...] = field(default_factory=tuple)


def _read_template_file(path: Path) -> TemplateFile:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read template metadata: {exc}") from exc
    try:
        return TemplateFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from exc


def load_templates(root: Path | None = None) -> dict[str, Template]:
    """All templates under `root` (default: the ones shipped with mlscaffold), by name."""
    # BEGIN SOLUTION: read every template.yaml, merge _common questions and file roots
    root = root or BUILTIN_DIR
    if not root.is_dir():
        raise ConfigError(f"templates directory {root} does not exist")
    common_dir = root / COMMON
    common = (_read_template_file(common_dir / "template.yaml")
              if (common_dir / "template.yaml").is_file() else None)
    templates: dict[str, Template] = {}
    for meta in sorted(root.glob("*/template.yaml")):
        folder = meta.parent
        if folder.name == COMMON:
            continue
        spec = _read_template_file(meta)
        if spec.name != folder.name:
            raise ConfigError(f"{meta}: name {spec.name!r} must match its folder {folder.name!r}")
        questions = {**(common.questions if common else {}), **spec.questions}
        roots = tuple(d for d in (common_dir / "files", folder / "files") if d.is_dir())
        templates[spec.name] = Template(spec.name, spec.version, spec.description, questions,
                                        roots)
    return templates
    # END SOLUTION


def get_template(name: str, root: Path | None = None) -> Template:
    templates = load_templates(root)
    if name not in templates:
        known = ", ".join(sorted(templates)) or "none"
        raise LookupError(f"unknown template {name!r} (available: {known})")
    return templates[name]
