"""Gated promotion, rollback and history against the real registry."""

from __future__ import annotations

import json
from typing import Any

import mlflow
import numpy as np
import pytest
from click.testing import CliRunner

from mltrack import training
from mltrack.audit import AuditLog
from mltrack.cli import cli
from mltrack.data import load_dataset

pytestmark = pytest.mark.integration

MEDIOCRE = training.SklearnParams(alpha=0.2, eta0=0.001, epochs=2)  # holdout acc ~0.92
BAD = training.SklearnParams(alpha=10.0, eta0=0.01, epochs=5)  # acc ~0.70
GOOD = training.SklearnParams(alpha=1e-4, eta0=0.01, epochs=20)  # acc ~0.96


def _champion(tracker: Any, name: str) -> str | None:
    return dict(tracker.registered_model(name).aliases).get("champion")


@pytest.mark.points(18)
def test_gate_blocks_worse_passes_better_rollback_and_history(
        settings: Any, tracker: Any, cli_env: dict[str, str]) -> None:
    name = settings.model_name
    for params in (MEDIOCRE, BAD, GOOD):
        training.train_sklearn(tracker, settings.experiment, params, register_as=name)
    runner = CliRunner()

    first = runner.invoke(cli, ["promote", name, "--candidate", "1", "--json"], env=cli_env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["decision"] == "promoted"
    assert _champion(tracker, name) == "1"

    worse = runner.invoke(cli, ["promote", name, "--candidate", "2"], env=cli_env)
    assert worse.exit_code == 1
    assert "rejected" in worse.output and "regression_accuracy" in worse.output
    assert _champion(tracker, name) == "1"  # unchanged
    rejected = tracker.version(name, "2")
    assert rejected.tags["mltrack.decision"] == "rejected"
    assert rejected.tags["mltrack.previous_champion"] == "1"
    eval_run = tracker.client.get_run(rejected.tags["mltrack.eval_run_id"])
    assert eval_run.data.tags["mltrack.decision"] == "rejected"
    assert eval_run.data.metrics["candidate_accuracy"] < eval_run.data.metrics[
        "champion_accuracy"]
    assert eval_run.inputs.dataset_inputs[0].dataset.name == "breast-cancer-holdout"

    better = runner.invoke(cli, ["promote", name, "--candidate", "3", "--reason", "retrain"],
                           env=cli_env)
    assert better.exit_code == 0, better.output
    assert _champion(tracker, name) == "3"
    promoted = tracker.version(name, "3")
    assert promoted.tags["mltrack.decided_by"] == "pytest"
    assert promoted.tags["mltrack.reason"] == "retrain"
    assert promoted.tags["mltrack.previous_champion"] == "1"
    assert "challenger" not in dict(tracker.registered_model(name).aliases)

    # load models:/NAME@champion and predict: same answers as the version itself
    holdout = load_dataset().holdout.features.head(20)
    by_alias = mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(holdout)
    by_version = mlflow.pyfunc.load_model(f"models:/{name}/3").predict(holdout)
    assert np.array_equal(by_alias, by_version)
    predicted = runner.invoke(cli, ["predict", name, "--rows", "3", "--json"], env=cli_env)
    assert predicted.exit_code == 0 and json.loads(predicted.stdout)["version"] == "3"

    back = runner.invoke(cli, ["rollback", name, "--reason", "incident 42"], env=cli_env)
    assert back.exit_code == 0, back.output
    assert "v3 -> v1" in back.output and _champion(tracker, name) == "1"
    again = runner.invoke(cli, ["rollback", name], env=cli_env)
    assert again.exit_code == 6 and "no previous champion" in again.output
    assert _champion(tracker, name) == "1"

    hist = runner.invoke(cli, ["history", name, "--json"], env=cli_env)
    intervals = json.loads(hist.stdout)
    assert [(i["version"], i["action"]) for i in intervals] == [
        ("1", "promote"), ("3", "promote"), ("1", "rollback")]
    assert intervals[0]["until"] == intervals[1]["since"]
    assert intervals[-1]["until"] is None and intervals[-1]["reason"] == "incident 42"

    events = [r["event"] for r in AuditLog(settings.audit_log_path).read(name)]
    assert events == ["promotion.promoted", "promotion.rejected", "promotion.promoted",
                      "rollback"]


@pytest.mark.points(10)
@pytest.mark.hidden
def test_bad_input_leaves_aliases_unchanged(settings: Any, tracker: Any,
                                            cli_env: dict[str, str]) -> None:
    name = settings.model_name
    training.train_sklearn(tracker, settings.experiment, GOOD, register_as=name)
    training.train_sklearn(tracker, settings.experiment, GOOD, register_as=name,
                           drop_features=["mean radius"])
    runner = CliRunner()
    assert runner.invoke(cli, ["promote", name, "--candidate", "1"], env=cli_env).exit_code == 0

    incompatible = runner.invoke(cli, ["promote", name, "--candidate", "2"], env=cli_env)
    assert incompatible.exit_code == 1
    assert "signature: missing input(s) 'mean radius'" in incompatible.output
    assert _champion(tracker, name) == "1"

    cases = [
        (["promote", "no-such-model", "--candidate", "1"], 4, "no-such-model"),
        (["promote", name, "--candidate", "99"], 4, "has no version 99"),
        (["promote", name, "--candidate", "1"], 6, "already the champion"),
        (["predict", name, "--alias", "nope"], 4, "has no alias 'nope'"),
        (["alias", name, "challenger", "42"], 4, "has no version 42"),
    ]
    for args, code, needle in cases:
        result = runner.invoke(cli, args, env=cli_env)
        assert result.exit_code == code, (args, result.output)
        assert needle in result.output and "Traceback" not in result.output
    aliases = dict(tracker.registered_model(name).aliases)
    assert aliases == {"champion": "1", "challenger": "2"}
