"""Rendering a template into memory, and writing a new project atomically.

Rendering is pure (template + answers -> {relative path: text}); `update` reuses it to compare
the old and the new render. Files ending in `.j2` go through Jinja2 (the suffix is dropped);
path segments may use `{{package_name}}`; other files are copied as they are.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from aiinfra_shared.config import ConfigError

from mlscaffold import __version__
from mlscaffold.answers import ANSWERS_FILE, AnswersRecord
from mlscaffold.templates import Template

BASE_FILE = ".mlscaffold-base.json"
# Renders source code and YAML, never HTML: escaping would corrupt the output.
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                          autoescape=False)  # noqa: S701


def context(template: Template, answers: dict[str, Any]) -> dict[str, Any]:
    """Variables the Jinja sources see: answers plus names derived from them."""
    # BEGIN SOLUTION: answers plus package_name, template and template_version
    return {**answers, "package_name": answers["project_name"].replace("-", "_"),
            "template": template.name, "template_version": template.version}
    # END SOLUTION


def render_files(template: Template, answers: dict[str, Any]) -> dict[str, str]:
    """Every file of the project as text, keyed by POSIX relative path (sorted)."""
    # BEGIN SOLUTION: render paths and .j2 sources with Jinja2; name the file on errors
    ctx = context(template, answers)
    files: dict[str, str] = {}
    for root in template.file_roots:
        for source in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = source.relative_to(root).as_posix()
            if "__pycache__" in rel:
                continue
            try:
                target = _ENV.from_string(rel).render(ctx)
                text = source.read_text()
                if target.endswith(".j2"):
                    target = target[: -len(".j2")]
                    text = _ENV.from_string(text).render(ctx)
            except jinja2.TemplateError as exc:
                lineno = getattr(exc, "lineno", None)
                line = f" line {lineno}" if lineno else ""
                raise ConfigError(f"template {template.name}: {rel}{line}: {exc}") from exc
            files[target] = text
    return dict(sorted(files.items()))
    # END SOLUTION


def record_for(template: Template, answers: dict[str, Any]) -> AnswersRecord:
    return AnswersRecord(template=template.name, template_version=template.version,
                         mlscaffold_version=__version__, answers=answers)


def base_snapshot(files: dict[str, str]) -> str:
    """The pristine render, stored in the project: the merge base of the next update."""
    return json.dumps({"files": files}, indent=1, sort_keys=True) + "\n"


def read_base_snapshot(project: Path) -> dict[str, str] | None:
    path = project / BASE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        files = data["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: unreadable base snapshot ({exc})") from exc
    if not isinstance(files, dict):
        raise ConfigError(f"{path}: unreadable base snapshot (files is not a mapping)")
    return {str(k): str(v) for k, v in files.items()}


def check_target(target: Path) -> None:
    """The target must not exist, or be an empty directory."""
    # BEGIN SOLUTION: FileExistsError unless the target is missing or an empty directory
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"target {target} already exists and is not empty")
    # END SOLUTION


def write_new_project(target: Path, files: dict[str, str], record: AnswersRecord,
                      finalize: Callable[[Path], None] | None = None) -> None:
    """Write everything into a temp dir beside `target`, then move it into place in one rename,
    so a failure leaves nothing behind. `finalize(staging)` runs before the rename (`uv lock`)."""
    # BEGIN SOLUTION: write into a staging dir beside the target, then one rename
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".mlscaffold-tmp",
                                    dir=target.parent))
    try:
        for rel, text in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        (staging / ANSWERS_FILE).write_text(record.to_yaml())
        (staging / BASE_FILE).write_text(base_snapshot(files))
        if finalize is not None:
            finalize(staging)
        staging.chmod(0o755)
        if target.is_dir():
            target.rmdir()  # empty (checked above)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # END SOLUTION
