"""What every operation needs: the project directory, its spec and the merged settings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json

from envman.config import Settings
from envman.spec import SPEC_FILE, Spec

STATE_DIR = ".envman"
ENV_STATE_FILE = ".envman-state.json"
# Installer plumbing that environments carry without it being declared.
BASE_PACKAGES = frozenset({"pip", "setuptools", "wheel"})


@dataclass
class Context:
    project: Path
    spec: Spec
    settings: Settings
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def spec_path(self) -> Path:
        return self.project / SPEC_FILE

    @property
    def state_dir(self) -> Path:
        return self.project / STATE_DIR

    @property
    def env_dir(self) -> Path:
        return self.project / (".conda-env" if self.spec.project.backend == "conda" else ".venv")

    @property
    def lock_meta_path(self) -> Path:
        return self.state_dir / "lock.json"

    def read_lock_meta(self) -> dict[str, Any]:
        try:
            data = json.loads(self.lock_meta_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_lock_meta(self) -> None:
        atomic_write_json(self.lock_meta_path, {
            "backend": self.spec.project.backend,
            "spec_hash": self.spec.content_hash(),
            "python": self.spec.python_minor,
        })


def env_python(env: Path) -> Path:
    return env / "bin" / "python"


def read_env_state(env: Path) -> dict[str, Any]:
    try:
        data = json.loads((env / ENV_STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_env_state(env: Path, payload: dict[str, Any]) -> None:
    atomic_write_json(env / ENV_STATE_FILE, payload)
