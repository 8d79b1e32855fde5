"""Training runs are tracked on the real server; artifacts land in the S3 bucket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import mlflow
import pytest
from click.testing import CliRunner

from mltrack import training
from mltrack.cli import cli
from mltrack.data import load_dataset

pytestmark = pytest.mark.integration


@pytest.mark.points(15)
def test_sklearn_run_logs_params_curves_datasets_tags_and_artifacts(
        stack: Any, settings: Any, tracker: Any) -> None:
    params = training.SklearnParams(epochs=7)
    result = training.train_sklearn(tracker, settings.experiment, params,
                                    register_as=settings.model_name)
    run = tracker.client.get_run(result.run_id)
    assert run.data.params["alpha"] == "0.0001" and run.data.params["epochs"] == "7"
    # batched curves: one value per epoch, steps 0..6
    curve = tracker.client.get_metric_history(result.run_id, "val_loss")
    assert sorted(m.step for m in curve) == list(range(7))
    assert run.data.metrics["val_f1"] == pytest.approx(result.metrics["f1"])
    # dataset inputs with digests and contexts
    inputs = {i.tags[0].value: i.dataset for i in run.inputs.dataset_inputs}
    assert set(inputs) == {"training", "validation"}
    assert all(len(d.digest) >= 8 for d in inputs.values())
    assert inputs["training"].name == "breast-cancer-train"
    # git and environment tags
    assert run.data.tags["git.commit"] != ""
    assert run.data.tags["env.python"] and run.data.tags["env.mlflow"] == mlflow.__version__
    # plots and the model are objects in the bucket, not local files
    keys = stack.s3_keys()
    run_keys = [k for k in keys if result.run_id in k]
    assert any(k.endswith("plots/confusion_matrix.png") for k in run_keys)
    assert any(k.endswith("plots/feature_importance.png") for k in run_keys)
    assert any(result.model_id in k and k.endswith("MLmodel") for k in keys)
    assert any(result.model_id in k and k.endswith("input_example.json") for k in keys)
    # signature and the LoggedModel with metrics linked to it
    info = mlflow.models.get_model_info(result.model_uri)
    assert info.signature is not None and len(info.signature.inputs.inputs) == 30
    logged = tracker.client.get_logged_model(result.model_id)
    assert {m.key for m in logged.metrics or []} >= {"val_f1", "val_accuracy"}
    # registry: version, challenger alias, tags, descriptions
    version = tracker.version(settings.model_name, "1")
    assert version.aliases == ["challenger"]
    assert version.tags["mltrack.run_id"] == result.run_id
    assert "sklearn model from run" in version.description
    assert "champion" in tracker.registered_model(settings.model_name).description


@pytest.mark.slow
@pytest.mark.points(6)
def test_torch_model_is_tracked_registered_loaded_and_predicts(settings: Any,
                                                               tracker: Any) -> None:
    result = training.train_torch(tracker, settings.experiment,
                                  training.TorchParams(hidden=8, epochs=5),
                                  register_as=settings.model_name)
    run = tracker.client.get_run(result.run_id)
    assert run.data.tags["mltrack.flavor"] == "pytorch" and "env.torch" in run.data.tags
    assert len(tracker.client.get_metric_history(result.run_id, "train_loss")) == 5
    model = mlflow.pyfunc.load_model(f"models:/{settings.model_name}@challenger")
    holdout = load_dataset().holdout
    output = model.predict(holdout.features.head(4))
    assert output.shape == (4, 2)  # two logits per row


@pytest.mark.points(8)
def test_hyperparameter_search_is_nested(settings: Any, tracker: Any) -> None:
    result = training.hyperparameter_search(tracker, settings.experiment, alphas=(1e-4, 1.0),
                                            eta0s=(0.01,), epochs=3)
    assert len(result.trials) == 2 and result.best is not None
    children = tracker.client.search_runs(
        [tracker.experiment_id(settings.experiment)],
        filter_string=f"tags.mlflow.parentRunId = '{result.parent_run_id}'")
    assert {c.info.run_id for c in children} == {t["run_id"] for t in result.trials}
    parent = tracker.client.get_run(result.parent_run_id)
    best_trial = max(result.trials, key=lambda t: t["val_f1"])
    assert parent.data.metrics["best_val_f1"] == pytest.approx(best_trial["val_f1"])
    assert result.best.run_id == result.parent_run_id


@pytest.mark.points(8)
def test_leaderboard_json_via_console_script_and_report(settings: Any, tracker: Any,
                                                         cli_env: dict[str, str],
                                                         tmp_path: Path) -> None:
    for alpha, name in ((10.0, "weak"), (1e-4, "strong")):
        training.train_sklearn(tracker, settings.experiment,
                               training.SklearnParams(alpha=alpha, epochs=5), run_name=name)
    exe = Path(sys.executable).parent / "mltrack"
    out = subprocess.run([str(exe), "leaderboard", settings.experiment, "--json"],
                         capture_output=True, text=True, check=False, timeout=180,
                         env={**os.environ, **cli_env})
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["run_name"] for r in rows] == ["strong", "weak"]
    assert rows[0]["metric"] >= rows[1]["metric"]

    report = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", settings.experiment, "-o", str(report)],
                                env=cli_env)
    assert result.exit_code == 0, result.output
    page = report.read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "strong" in page and "weak" in page

    missing = CliRunner().invoke(cli, ["leaderboard", "no-such-experiment"], env=cli_env)
    assert missing.exit_code == 4 and "no-such-experiment" in missing.output
