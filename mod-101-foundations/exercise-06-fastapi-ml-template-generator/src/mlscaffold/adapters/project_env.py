"""Run code inside a generated project's own environment (uv), e.g. to export its OpenAPI.

The generated project is standalone (its own dependencies, maybe torch): mlscaffold never
imports it; it asks `uv run --project` to build the app there and print the schema.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

MARKER = "MLSCAFFOLD-EXPORT:"
_EXPORT = """
import json
from {pkg}.main import create_app
from {pkg}.settings import Settings
app = create_app()
print("{marker}" + json.dumps({{"openapi": app.openapi(),
                               "settings": Settings.model_json_schema()}}))
"""


class ProjectEnvError(RuntimeError):
    """The project's environment could not be built or the export failed."""


def export_app_schema(project: Path, package: str, timeout: float = 600.0) -> dict[str, Any]:
    """`{"openapi": ..., "settings": ...}` from the project's app, built in its own venv."""
    uv = shutil.which("uv")
    if uv is None:
        raise ProjectEnvError("uv is not installed (pip install uv)")
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}
    env["APP_LOG_JSON"] = "false"
    code = _EXPORT.format(pkg=package, marker=MARKER)
    try:
        proc = subprocess.run([uv, "run", "--quiet", "--project", str(project), "python", "-c",
                               code], cwd=project, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ProjectEnvError(f"building {project}'s environment took over {timeout:.0f}s") \
            from exc
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            data: dict[str, Any] = json.loads(line[len(MARKER):])
            return data
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    raise ProjectEnvError(f"cannot export the app schema of {project}: {last}")
