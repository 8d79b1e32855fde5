"""Reading MLModel manifests from YAML files, with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from modelop.spec import GROUP, KIND


class ManifestError(Exception):
    """A manifest file is missing or not valid YAML (exit 3; a missing file exits 4)."""

    exit_code = 3


class ManifestNotFoundError(ManifestError):
    exit_code = 4


def load_mlmodels(path: Path) -> list[dict[str, Any]]:
    """Every MLModel document in `path` (other kinds are skipped)."""
    if not path.is_file():
        raise ManifestNotFoundError(f"{path}: no such file")
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{path}:{where} not valid YAML "
                            f"({getattr(exc, 'problem', exc)})") from exc
    models = []
    for doc in docs:
        if not isinstance(doc, dict):
            raise ManifestError(f"{path}: a document is not a mapping")
        if doc.get("kind") == KIND and str(doc.get("apiVersion", "")).startswith(GROUP):
            models.append(doc)
    if not models:
        raise ManifestError(f"{path}: no {KIND} ({GROUP}/...) document found")
    return models
