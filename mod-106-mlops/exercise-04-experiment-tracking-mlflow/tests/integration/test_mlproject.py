"""The MLproject file runs with `mlflow run` against the tracking server.

The Keras entry point is tested here, through `mlflow run` and the `mltrack predict` console
script: TensorFlow is imported only in those subprocesses, never in the pytest process (its
import costs several seconds of CPU and it shares nothing with the other tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import mlflow
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXERCISE = Path(__file__).resolve().parents[2]


BIN = Path(sys.executable).parent


def _project_env(settings: Any) -> dict[str, str]:
    # Only this test's MLflow settings: earlier tests in this process leave MLFLOW_* behind
    # (experiment id, registry URI of a proxy that is gone).
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return {**inherited, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "MLFLOW_TRACKING_URI": settings.tracking_uri,
            "MLTRACK_TRACKING_URI": settings.tracking_uri,
            "MLTRACK_STATE_DIR": str(settings.state_dir),
            "MLTRACK_EXPERIMENT": settings.experiment, "MLTRACK_RETRIES": "1"}


def _mlflow_run(settings: Any, entry_point: str, *params: str) -> None:
    args = [p for param in params for p in ("-P", param)]
    done = subprocess.run(
        [str(BIN / "mlflow"), "run", str(EXERCISE), "-e", entry_point, "--env-manager",
         "local", "--experiment-name", settings.experiment, *args,
         "-P", f"model_name={settings.model_name}"],
        capture_output=True, text=True, check=False, timeout=400, env=_project_env(settings))
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.points(4)
def test_mlflow_run_sklearn_entry_point_tracks_into_the_project_run(
        settings: Any, tracker: Any) -> None:
    _mlflow_run(settings, "sklearn", "epochs=3")
    runs = tracker.search_runs(settings.experiment)
    assert len(runs) == 1  # mltrack logged into the run `mlflow run` opened, not a second one
    run = runs[0]
    assert run.data.params["epochs"] == "3" and run.data.tags["mltrack.flavor"] == "sklearn"
    assert run.data.tags.get("mlflow.project.entryPoint") == "sklearn"
    assert [v.version for v in tracker.versions(settings.model_name)] == ["1"]


@pytest.mark.timeout(600)
@pytest.mark.points(5)
def test_mlflow_run_keras_entry_point_tracks_registers_and_the_model_predicts(
        settings: Any, tracker: Any) -> None:
    _mlflow_run(settings, "keras", "hidden=8", "epochs=4")
    [run] = tracker.search_runs(settings.experiment)
    assert run.data.tags["mltrack.flavor"] == "keras"
    assert run.data.tags.get("mlflow.project.entryPoint") == "keras"
    assert run.data.tags["env.tensorflow"] and run.data.params["keras_backend"] == "tensorflow"
    assert run.data.params["hidden"] == "8" and run.data.params["epochs"] == "4"
    curve = tracker.client.get_metric_history(run.info.run_id, "val_loss")
    assert [m.step for m in curve] == [0, 1, 2, 3]  # one point per Keras epoch
    assert run.data.metrics["val_accuracy"] > 0.8  # learnt something on 30 features
    [version] = tracker.versions(settings.model_name)
    assert version.version == "1" and version.tags["mltrack.flavor"] == "keras"
    flavors = mlflow.models.get_model_info(f"models:/{settings.model_name}/1").flavors
    assert "keras" in flavors and "python_function" in flavors  # MLflow's Keras flavour

    # the registered Keras model, loaded back by pyfunc in another process, predicts
    done = subprocess.run(
        [str(BIN / "mltrack"), "predict", settings.model_name, "--alias", "challenger",
         "--rows", "20", "--json"],
        capture_output=True, text=True, check=False, timeout=300, env=_project_env(settings))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["version"] == "1" and len(result["predictions"]) == 20
    agree = sum(p == t for p, t in zip(result["predictions"], result["truth"], strict=True))
    assert agree >= 15  # a trained classifier, not a constant
