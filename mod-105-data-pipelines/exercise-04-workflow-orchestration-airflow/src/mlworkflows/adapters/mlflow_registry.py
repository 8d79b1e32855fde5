"""The MLflow backend of the model registry (same interface as the file registry).

register: one MLflow run per registered candidate (params, metrics, tags, the sklearn model
logged with `registered_model_name`, which creates the next model version). deploy: moves the
registered-model alias (default `champion`) to that version; the alias is the serving pointer,
switched in one database write. production/load_production_model: resolve the alias and load
`models:/<name>/<version>` from MLflow, so the gate and batch inference read what MLflow holds.

Each version also gets a small local directory (registry/<model>/mlflow/<version>/) holding a
copy of the model file: the training DAG puts the drift reference next to it, exactly as with
the file registry, so the monitoring DAG works unchanged with either backend.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import mlflow
import mlflow.sklearn
import sklearn
from aiinfra_shared.io import atomic_write_json
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion as MlflowVersion
from mlflow.exceptions import MlflowException

from mlworkflows.registry import ModelVersion

_TAGS = ("run_id", "dag_id", "reason", "model_type", "data_partition", "data_sha256")


@contextmanager
def _scoped_uri(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API (log_model, load_model) at `uri` for one call only.

    `mlflow.set_tracking_uri` also exports MLFLOW_TRACKING_URI to the environment; leaving it
    set would leak into everything started later in this process (other registries, Airflow
    subprocesses), so the previous values are put back afterwards.
    """
    keys = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved = {key: os.environ.get(key) for key in keys}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(saved["MLFLOW_TRACKING_URI"])  # type: ignore[arg-type]
        mlflow.set_registry_uri(saved["MLFLOW_REGISTRY_URI"])  # type: ignore[arg-type]
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _not_found(exc: MlflowException) -> bool:
    return bool(exc.error_code == "RESOURCE_DOES_NOT_EXIST")


class MlflowModelRegistry:
    def __init__(self, tracking_uri: str, root: Path, *, experiment: str = "mlworkflows",
                 artifact_location: str | None = None, alias: str = "champion") -> None:
        self.tracking_uri = tracking_uri
        self.root = root
        self.experiment = experiment
        self.artifact_location = artifact_location
        self.alias = alias
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    def _local_dir(self, model: str, version: int) -> Path:
        return self.root / model / "mlflow" / str(version)

    def _experiment_id(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return str(found.experiment_id)
        location = self.artifact_location
        if location and "://" not in location:
            location = Path(location).expanduser().resolve().as_uri()
        try:
            return str(self.client.create_experiment(self.experiment, artifact_location=location))
        except MlflowException:  # created concurrently by another task
            again = self.client.get_experiment_by_name(self.experiment)
            if again is None:
                raise
            return str(again.experiment_id)

    def register(self, model: str, model_file: Path, metadata: dict[str, Any]) -> ModelVersion:
        # BEGIN SOLUTION: one MLflow run: params, metrics, tags, log_model registered_model_name
        estimator = joblib.load(model_file)
        params = {k: str(v) for k, v in (metadata.get("params") or {}).items()}
        metrics = {k: float(v) for k, v in (metadata.get("metrics") or {}).items()}
        tags = {f"mlworkflows.{k}": str(metadata[k]) for k in _TAGS if k in metadata}
        experiment_id = self._experiment_id()
        run_name = f"{model}-{metadata.get('run_id', 'manual')}"
        with (_scoped_uri(self.tracking_uri),
              mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags) as run):
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            # explicit requirements: skips MLflow's slow dependency inference (a subprocess)
            info = mlflow.sklearn.log_model(
                estimator, name="model", registered_model_name=model,
                serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
                pip_requirements=[f"scikit-learn=={sklearn.__version__}"])
        number = int(info.registered_model_version)
        local = self._local_dir(model, number)
        local.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_file, local / "model.joblib")
        meta = {**metadata, "model": model, "version": number,
                "registered_at": datetime.now(UTC).isoformat(),
                "mlflow_run_id": run.info.run_id, "model_uri": f"models:/{model}/{number}"}
        atomic_write_json(local / "metadata.json", meta)
        return ModelVersion(model, number, local / "model.joblib", meta)
        # END SOLUTION

    def _version(self, model: str, version: int) -> MlflowVersion:
        try:
            return self.client.get_model_version(model, str(version))
        except MlflowException as exc:
            if _not_found(exc):
                raise KeyError(f"{model} v{version} is not registered in MLflow") from exc
            raise

    def get(self, model: str, version: int) -> ModelVersion:
        found = self._version(model, version)
        run = self.client.get_run(found.run_id) if found.run_id else None
        meta: dict[str, Any] = {"model": model, "version": version,
                                "model_uri": f"models:/{model}/{version}",
                                "mlflow_run_id": found.run_id,
                                "metrics": dict(run.data.metrics) if run else {},
                                "params": dict(run.data.params) if run else {}}
        if run is not None:
            for key in _TAGS:
                if f"mlworkflows.{key}" in run.data.tags:
                    meta[key] = run.data.tags[f"mlworkflows.{key}"]
        return ModelVersion(model, version, self._local_dir(model, version) / "model.joblib",
                            meta)

    def deploy(self, model: str, version: int, reason: str) -> dict[str, Any]:
        # BEGIN SOLUTION: tag the version and move the alias to it; return the pointer
        self._version(model, version)  # KeyError before anything moves
        deployed_at = datetime.now(UTC).isoformat()
        self.client.set_model_version_tag(model, str(version), "deployed_at", deployed_at)
        self.client.set_model_version_tag(model, str(version), "deploy_reason", reason)
        self.client.set_registered_model_alias(model, self.alias, str(version))
        pointer = self.production(model)
        if pointer is None or pointer["version"] != version:  # moved by a concurrent deploy
            raise RuntimeError(f"{model}: alias {self.alias!r} does not point at v{version} "
                               "after deploy")
        return pointer
        # END SOLUTION

    def production(self, model: str) -> dict[str, Any] | None:
        try:
            registered_model = self.client.get_registered_model(model)
        except MlflowException as exc:
            if _not_found(exc):
                return None
            raise
        if self.alias not in registered_model.aliases:  # registered, never deployed
            return None
        found = self.client.get_model_version_by_alias(model, self.alias)
        version = int(found.version)
        registered = self.get(model, version)
        return {"model": model, "version": version, "model_path": str(registered.path),
                "model_uri": registered.metadata["model_uri"], "alias": self.alias,
                "metrics": registered.metadata["metrics"],
                "deployed_at": found.tags.get("deployed_at"),
                "reason": found.tags.get("deploy_reason")}

    def load_production_model(self, model: str) -> tuple[Any, dict[str, Any]]:
        pointer = self.production(model)
        if pointer is None:
            raise LookupError(f"no production model for {model!r} in MLflow (alias "
                              f"{self.alias!r} not set): train and deploy one first")
        # by number, not by alias: the pointer and the loaded model are the same version
        with _scoped_uri(self.tracking_uri):
            return mlflow.sklearn.load_model(pointer["model_uri"]), pointer

    def versions(self, model: str) -> list[int]:
        found = self.client.search_model_versions(f"name = '{model}'")
        return sorted(int(v.version) for v in found)
