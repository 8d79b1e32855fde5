"""The MLproject file runs with `mlflow run` against the tracking server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXERCISE = Path(__file__).resolve().parents[2]


@pytest.mark.points(4)
def test_mlflow_run_sklearn_entry_point_tracks_into_the_project_run(
        settings: Any, tracker: Any) -> None:
    bin_dir = Path(sys.executable).parent
    # Only this test's MLflow settings: earlier tests in this process leave MLFLOW_* behind
    # (experiment id, registry URI of a proxy that is gone).
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env = {**inherited, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "MLFLOW_TRACKING_URI": settings.tracking_uri,
           "MLTRACK_TRACKING_URI": settings.tracking_uri,
           "MLTRACK_EXPERIMENT": settings.experiment, "MLTRACK_RETRIES": "1"}
    done = subprocess.run(
        [str(bin_dir / "mlflow"), "run", str(EXERCISE), "-e", "sklearn", "--env-manager",
         "local", "--experiment-name", settings.experiment, "-P", "epochs=3",
         "-P", f"model_name={settings.model_name}"],
        capture_output=True, text=True, check=False, timeout=240, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = tracker.search_runs(settings.experiment)
    assert len(runs) == 1  # mltrack logged into the run `mlflow run` opened, not a second one
    run = runs[0]
    assert run.data.params["epochs"] == "3" and run.data.tags["mltrack.flavor"] == "sklearn"
    assert run.data.tags.get("mlflow.project.entryPoint") == "sklearn"
    assert [v.version for v in tracker.versions(settings.model_name)] == ["1"]
