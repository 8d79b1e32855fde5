"""Model registries: a file-based one (default) and the interface an MLflow one also implements.

Layout: registry/<model>/versions/<n>/{model.joblib,metadata.json} and
registry/<model>/production.json. Versions are created with an exclusive mkdir, so two runs
registering at once get different numbers; the pointer is replaced with a rename, so a serving
process reads either the old or the new pointer, never half of one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import joblib
from aiinfra_shared.io import atomic_write_json

if TYPE_CHECKING:
    from mlworkflows.config import Settings


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: int
    path: Path
    metadata: dict[str, Any]


class Registry(Protocol):
    """What the DAGs and the CLI call; `open_registry` picks the backend from the settings.

    `ModelVersion.path` is always a local file whose parent directory the training DAG may put
    run artefacts into (the drift reference); the pointer dicts carry version, metrics,
    model_path, deployed_at and reason for every backend.
    """

    def register(self, model: str, model_file: Path,
                 metadata: dict[str, Any]) -> ModelVersion: ...

    def get(self, model: str, version: int) -> ModelVersion: ...

    def deploy(self, model: str, version: int, reason: str) -> dict[str, Any]: ...

    def production(self, model: str) -> dict[str, Any] | None: ...

    def load_production_model(self, model: str) -> tuple[Any, dict[str, Any]]: ...

    def versions(self, model: str) -> list[int]: ...


def open_registry(settings: Settings) -> Registry:
    """MLflow when a tracking URI is configured, else the file registry in the workspace."""
    root = settings.resolved_home() / "registry"
    if settings.mlflow_tracking_uri:
        from mlworkflows.adapters.mlflow_registry import MlflowModelRegistry

        return MlflowModelRegistry(settings.mlflow_tracking_uri, root,
                                   experiment=settings.mlflow_experiment,
                                   artifact_location=settings.mlflow_artifact_location,
                                   alias=settings.mlflow_alias)
    return ModelRegistry(root)


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _model_dir(self, model: str) -> Path:
        return self.root / model

    def pointer_path(self, model: str) -> Path:
        return self._model_dir(model) / "production.json"

    def register(self, model: str, model_file: Path, metadata: dict[str, Any]) -> ModelVersion:
        # BEGIN SOLUTION: next version by exclusive mkdir, copy the model, write metadata.json
        versions = self._model_dir(model) / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        number = max((int(p.name) for p in versions.iterdir() if p.name.isdigit()), default=0)
        while True:
            number += 1
            target = versions / str(number)
            try:
                target.mkdir()
                break
            except FileExistsError:
                continue
        shutil.copyfile(model_file, target / "model.joblib")
        meta = {**metadata, "model": model, "version": number,
                "registered_at": datetime.now(UTC).isoformat()}
        atomic_write_json(target / "metadata.json", meta)
        return ModelVersion(model, number, target / "model.joblib", meta)
        # END SOLUTION

    def get(self, model: str, version: int) -> ModelVersion:
        target = self._model_dir(model) / "versions" / str(version)
        meta_path = target / "metadata.json"
        if not meta_path.exists():
            raise KeyError(f"{model} v{version} is not registered")
        return ModelVersion(model, version, target / "model.joblib",
                            json.loads(meta_path.read_text()))

    def deploy(self, model: str, version: int, reason: str) -> dict[str, Any]:
        # BEGIN SOLUTION: write production.json atomically (KeyError for an unknown version)
        registered = self.get(model, version)
        pointer = {"model": model, "version": version, "model_path": str(registered.path),
                   "metrics": registered.metadata.get("metrics", {}),
                   "deployed_at": datetime.now(UTC).isoformat(), "reason": reason}
        atomic_write_json(self.pointer_path(model), pointer)
        return pointer
        # END SOLUTION

    def production(self, model: str) -> dict[str, Any] | None:
        path = self.pointer_path(model)
        if not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def load_production_model(self, model: str) -> tuple[Any, dict[str, Any]]:
        pointer = self.production(model)
        if pointer is None:
            raise LookupError(f"no production model for {model!r}: train and deploy one first")
        return joblib.load(pointer["model_path"]), pointer

    def versions(self, model: str) -> list[int]:
        versions = self._model_dir(model) / "versions"
        if not versions.is_dir():
            return []
        return sorted(int(p.name) for p in versions.iterdir() if p.name.isdigit())
