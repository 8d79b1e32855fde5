"""Run a generated project for real: build its venv (uv), train its example model, serve it
with uvicorn on loopback. Used by `make run` (scripts/demo.py) and `make bench`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.procs.process import ServiceProcess

from mlscaffold.adapters.project_env import find_uv, subprocess_env

MODEL_FILES = {"sklearn": "model.joblib", "pytorch": "model.pt"}


def sync_env(project: Path) -> None:
    """`uv sync` in the project (its own venv; the shared uv cache makes it fast)."""
    subprocess.run([find_uv(), "sync", "--quiet"], cwd=project, env=subprocess_env(),
                   check=True, timeout=1800)


def train_model(project: Path, template: str) -> Path:
    """Run the project's scripts/train.py; return the model path."""
    out = project / "models" / MODEL_FILES[template]
    subprocess.run([str(project / ".venv/bin/python"), "scripts/train.py", "--out", str(out)],
                   cwd=project, env=subprocess_env(), check=True, capture_output=True,
                   timeout=600)
    return out


@contextmanager
def serve(project: Path, package: str, env: dict[str, str] | None = None,
          log_path: Path | None = None) -> Iterator[str]:
    """Serve the project with uvicorn on a free loopback port; yields the base URL."""
    port = free_port()
    command = [str(project / ".venv/bin/python"), "-m", "uvicorn", f"{package}.main:create_app",
               "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = ServiceProcess(f"{package}-uvicorn", command,
                             log_path or project / "uvicorn.log",
                             env={**subprocess_env(), **(env or {})}, cwd=project,
                             ready_http=f"http://127.0.0.1:{port}/ready", timeout=120)
    with process:
        yield f"http://127.0.0.1:{port}"
