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


_PROBE = """
import json
out = {{}}
try:
    from {pkg}.main import create_app
    app = create_app()
except Exception as exc:
    out["import_error"] = type(exc).__name__ + ": " + str(exc)
else:
    try:
        out["openapi"] = app.openapi()
    except Exception as exc:
        out["openapi_error"] = type(exc).__name__ + ": " + str(exc)
    try:
        from fastapi.testclient import TestClient
        with TestClient(app) as client:
            response = client.get("/health")
            out["health"] = [response.status_code, response.text[:300]]
    except Exception as exc:
        out["health_error"] = type(exc).__name__ + ": " + str(exc)
print("{marker}" + json.dumps(out))
"""


class ProjectEnvError(RuntimeError):
    """The project's environment could not be built or the export failed."""


def find_uv() -> str:
    """The uv binary: the one installed with mlscaffold, else the one on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise ProjectEnvError("uv is not installed (pip install uv)") from None
        return found


def subprocess_env() -> dict[str, str]:
    """Environment for running uv on a generated project.

    Drops the caller's virtualenv (the project has its own): uv would otherwise warn about,
    or sync into, mlscaffold's venv instead of the project's `.venv`.
    """
    return {k: v for k, v in os.environ.items()
            if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}


def lock_project(project: Path, timeout: float = 600.0) -> None:
    """`uv lock` in a freshly rendered project (needs PyPI or uv's cache)."""
    try:
        proc = subprocess.run([find_uv(), "lock", "--quiet"], cwd=project, env=subprocess_env(),
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ProjectEnvError(f"uv lock took over {timeout:.0f}s; rerun with --no-lock and "
                              "run `make lock` later") from exc
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        cause = lines[-1] if lines else f"exit {proc.returncode}"
        raise ProjectEnvError(f"uv lock failed ({cause}); offline? rerun with --no-lock and run "
                              "`make lock` later")


def _uv_run(project: Path, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = subprocess_env()
    env["APP_LOG_JSON"] = "false"
    try:
        return subprocess.run([find_uv(), "run", "--quiet", "--project", str(project), *args],
                              cwd=project, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ProjectEnvError(f"running {args[0]} in {project}'s environment took over "
                              f"{timeout:.0f}s") from exc


def probe_app(project: Path, package: str, timeout: float = 600.0) -> dict[str, Any]:
    """Build the app in the project's own env: import errors, its OpenAPI schema, and what
    `GET /health` answers through the app's lifespan (keys `import_error`, `openapi`,
    `openapi_error`, `health` = [status, body], `health_error`)."""
    # BEGIN SOLUTION: uv run the probe snippet in the project and parse its marker line
    proc = _uv_run(project, ["python", "-c", _PROBE.format(pkg=package, marker=MARKER)],
                   timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            data: dict[str, Any] = json.loads(line[len(MARKER):])
            return data
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    raise ProjectEnvError(f"cannot run {project}'s app in its environment: {last}")
    # END SOLUTION


def run_project_tests(project: Path, timeout: float = 600.0) -> tuple[bool, str]:
    """The project's own test suite in its env: (passed, pytest's summary line)."""
    proc = _uv_run(project, ["pytest", "-q", "-p", "no:cacheprovider"], timeout)
    lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
    summary = lines[-1] if lines else (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return proc.returncode == 0, summary.strip("= ")


def export_app_schema(project: Path, package: str, timeout: float = 600.0) -> dict[str, Any]:
    """`{"openapi": ..., "settings": ...}` from the project's app, built in its own venv."""
    # BEGIN SOLUTION: uv run the export snippet in the project and parse its marker line
    uv = find_uv()
    env = subprocess_env()
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
    # END SOLUTION
