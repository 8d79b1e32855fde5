"""The MLflow registry backend against a real MLflow store: SQLite backend + local artifacts.

No MLflow server is needed: a `sqlite:///` tracking URI is MLflow's SQLAlchemy store (the same
code a tracking server runs), with artifacts in a local directory. One test drives the training
DAG's register/deploy path with `dag.test()`; the other calls the adapter the way the DAGs do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import joblib
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from mlworkflows import airflow_env, data, inference, training
from mlworkflows.adapters.mlflow_registry import MlflowModelRegistry
from mlworkflows.config import Settings
from mlworkflows.registry import open_registry
from mlworkflows.workspace import Workspace
from tests.conftest import CONFIGS, DAGS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MODEL = "cancer_mlflow"


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "ws",
                    mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
                    mlflow_artifact_location=str(tmp_path / "artifacts"))


@pytest.mark.points(1)
def test_settings_pick_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLWORKFLOWS_MLFLOW_TRACKING_URI", raising=False)
    assert type(open_registry(Settings(home=tmp_path))).__name__ == "ModelRegistry"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    assert isinstance(open_registry(Settings(home=tmp_path)), MlflowModelRegistry)


@pytest.mark.points(5)
def test_adapter_versions_alias_and_loading(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    registry = open_registry(_settings(tmp_path))
    assert isinstance(registry, MlflowModelRegistry)
    frame = data.make_batch(rows=200, seed=1)
    features = training.engineer(frame.drop(columns=[data.TARGET]))
    estimator = LogisticRegression(max_iter=500).fit(features, frame[data.TARGET])
    model_file = tmp_path / "model.joblib"
    joblib.dump(estimator, model_file)

    assert registry.production("m") is None and registry.versions("m") == []
    with pytest.raises(LookupError):
        registry.load_production_model("m")
    v1 = registry.register("m", model_file, {"metrics": {"roc_auc": 0.91}, "params": {"C": 1},
                                             "run_id": "r1", "reason": "test"})
    v2 = registry.register("m", model_file, {"metrics": {"roc_auc": 0.97}, "params": {"C": 2}})
    assert (v1.version, v2.version) == (1, 2) and registry.versions("m") == [1, 2]
    assert v1.path.is_file() and registry.get("m", 1).metadata["metrics"] == {"roc_auc": 0.91}
    assert registry.get("m", 1).metadata["run_id"] == "r1"
    with pytest.raises(KeyError):
        registry.get("m", 9)
    with pytest.raises(KeyError):
        registry.deploy("m", 9, reason="missing")
    assert registry.production("m") is None  # a failed deploy set no alias

    pointer = registry.deploy("m", 2, reason="better")
    assert pointer["version"] == 2 and pointer["alias"] == "champion"
    assert pointer["metrics"] == {"roc_auc": 0.97} and pointer["reason"] == "better"
    client = MlflowClient(tracking_uri=registry.tracking_uri)
    assert int(client.get_model_version_by_alias("m", "champion").version) == 2
    assert client.get_run(client.get_model_version("m", "2").run_id).data.params == {"C": "2"}
    assert (tmp_path / "artifacts").is_dir()  # artifacts went to the configured local root

    loaded, prod = registry.load_production_model("m")
    assert prod == registry.production("m")
    assert (loaded.predict(features) == estimator.predict(features)).all()
    # MLflow's process-wide URI was only borrowed: nothing leaks into later Settings/subprocesses
    assert "MLFLOW_TRACKING_URI" not in os.environ


@pytest.mark.points(4)
def test_training_dag_registers_and_deploys_to_mlflow(
        tmp_path: Path, webhook: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real DAG files, configured only through the environment, register into MLflow."""
    settings = _settings(tmp_path)
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "mlflow.yaml").write_text(
        (CONFIGS / "cancer_logreg.yaml").read_text().replace("name: cancer_logreg",
                                                              f"name: {MODEL}"))
    monkeypatch.setenv("MLWORKFLOWS_HOME", str(settings.home))
    monkeypatch.setenv("MLWORKFLOWS_CONFIGS_DIR", str(configs))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(settings.mlflow_tracking_uri))
    monkeypatch.setenv("MLWORKFLOWS_MLFLOW_ARTIFACT_LOCATION",
                       str(settings.mlflow_artifact_location))
    ws = Workspace(settings.resolved_home()).ensure()
    data.write_csv(data.make_batch(rows=300, seed=2), ws.partition("20260101T000000Z"))
    airflow_env.init_db()
    found, errors = airflow_env.load_dags(DAGS)
    assert errors == {}
    dag = found[f"mlw_train_{MODEL}"]
    run = airflow_env.run_dag(dag, conf={"trials": [{"C": 1.0, "max_iter": 500}]},
                              xcom_tasks=("select_best", "register", "deploy"))
    assert run.state == "success", run.tasks
    assert run.tasks["deploy"] == "success" and run.tasks["skip_deploy"] == "skipped"
    assert run.xcoms["register"] == 1 and run.xcoms["deploy"]["version"] == 1

    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    version = client.get_model_version_by_alias(MODEL, "champion")
    assert int(version.version) == 1
    mlflow_run = client.get_run(version.run_id)
    best = run.xcoms["select_best"]["metrics"]
    assert mlflow_run.data.metrics["roc_auc"] == pytest.approx(best["roc_auc"])
    assert mlflow_run.data.tags["mlworkflows.dag_id"] == dag.dag_id
    assert (tmp_path / "artifacts").is_dir()

    registry = open_registry(settings)
    pointer = registry.production(MODEL)
    assert pointer is not None and pointer["version"] == 1
    assert (Path(pointer["model_path"]).parent / "reference.csv").is_file()  # for drift
    # batch inference reads the production model back from MLflow (same call as its DAG)
    data.write_csv(data.make_batch(rows=50, seed=3, labelled=False), ws.batches)
    meta = inference.score_batch(registry, MODEL, ws.batches, ws.predictions / MODEL, "t1")
    assert meta["model_version"] == 1 and meta["rows"] == 50
    lines = Path(meta["predictions"]).read_text().splitlines()
    assert lines[0] == "row,score,prediction" and len(lines) == 51
