"""End-to-end DAG runs with `dag.test()` on SQLite, on the bundled data.

The data + training pipeline runs once per session (fixture `trained`); the other tests build
on the model it deployed. Each test asserts on files the DAGs wrote and on task states.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mlworkflows import airflow_env, data
from mlworkflows.registry import ModelRegistry
from mlworkflows.workspace import Workspace
from tests.conftest import DAGS

pytestmark = pytest.mark.integration
MODEL = "cancer_logreg"


@pytest.fixture(scope="session")
def dags(webhook: Any) -> dict[str, Any]:
    airflow_env.init_db()
    found, errors = airflow_env.load_dags(DAGS)
    assert errors == {}
    return found


@pytest.fixture(scope="session")
def ws(workspace: Path) -> Workspace:
    return Workspace(workspace).ensure()


@pytest.fixture(scope="session")
def trained(dags: dict[str, Any], ws: Workspace) -> dict[str, Any]:
    data.write_csv(data.make_batch(rows=400, seed=0), ws.incoming / "batch_0001.csv")
    data_run = airflow_env.run_dag(dags["mlw_data"], xcom_tasks=("validate",))
    train_run = airflow_env.run_dag(dags[f"mlw_train_{MODEL}"],
                                    xcom_tasks=("quality_gate", "deploy", "select_best"))
    return {"data": data_run, "train": train_run}


@pytest.mark.points(8)
def test_data_then_training_deploys_a_model(trained: dict[str, Any], ws: Workspace) -> None:
    data_run, train_run = trained["data"], trained["train"]
    assert data_run.state == "success", data_run.tasks
    assert data_run.tasks["publish"] == "success" and data_run.tasks["quarantine"] == "skipped"
    assert ws.partitions() and not list(ws.incoming.glob("*.csv"))
    assert train_run.state == "success", train_run.tasks
    assert {k for k in train_run.tasks if k.startswith("train_trial[")} == {
        "train_trial[0]", "train_trial[1]", "train_trial[2]"}  # one mapped task per trial
    assert train_run.tasks["deploy"] == "success" and train_run.tasks["skip_deploy"] == "skipped"
    pointer = ModelRegistry(ws.registry).production(MODEL)
    assert pointer is not None and pointer["version"] == 1
    assert Path(pointer["model_path"]).is_file()
    assert (Path(pointer["model_path"]).parent / "reference.csv").is_file()
    assert train_run.xcoms["quality_gate"]["passed"] is True
    assert pointer["metrics"]["roc_auc"] == train_run.xcoms["select_best"]["metrics"]["roc_auc"]


@pytest.mark.points(4)
def test_batch_inference_writes_predictions(trained: dict[str, Any], dags: dict[str, Any],
                                            ws: Workspace) -> None:
    data.write_csv(data.make_batch(rows=120, seed=5, labelled=False), ws.batches)
    run = airflow_env.run_dag(dags[f"mlw_inference_{MODEL}"], xcom_tasks=("score_batch",))
    assert run.state == "success", run.tasks
    meta = run.xcoms["score_batch"]
    predictions = Path(meta["predictions"])
    lines = predictions.read_text().splitlines()
    assert lines[0] == "row,score,prediction" and len(lines) == 121
    stored = json.loads(predictions.with_suffix(".json").read_text())
    assert stored["model_version"] == 1 and stored["rows"] == 120 and stored["run_id"] == run.run_id


@pytest.mark.points(5)
@pytest.mark.hidden
def test_gate_blocks_a_worse_model(trained: dict[str, Any], dags: dict[str, Any],
                                   ws: Workspace) -> None:
    registry = ModelRegistry(ws.registry)
    before = registry.production(MODEL)
    weak = {"trials": [{"C": 0.00001, "max_iter": 5}], "reason": "test"}
    run = airflow_env.run_dag(dags[f"mlw_train_{MODEL}"], conf=weak,
                              xcom_tasks=("quality_gate", "skip_deploy"))
    assert run.state == "success", run.tasks
    assert run.tasks["register"] == "skipped" and run.tasks["deploy"] == "skipped"
    assert run.tasks["skip_deploy"] == "success"
    assert not run.xcoms["quality_gate"]["passed"]
    assert "below the threshold" in run.xcoms["skip_deploy"]
    assert registry.production(MODEL) == before  # the serving pointer did not move
    assert registry.versions(MODEL) == [1]


@pytest.mark.points(5)
@pytest.mark.hidden
def test_bad_data_is_quarantined_and_alerted(trained: dict[str, Any], dags: dict[str, Any],
                                             ws: Workspace, webhook: Any,
                                             alert_email: Any) -> None:
    partitions_before = {p: ws.partition(p).read_bytes() for p in ws.partitions()}
    data.write_csv(data.corrupt_batch(), ws.incoming / "batch_bad.csv")
    alerts_before = len(webhook.payloads)
    run = airflow_env.run_dag(dags["mlw_data"])
    assert run.state == "failed"
    assert run.tasks["publish"] == "skipped" and run.tasks["quarantine"] == "failed"
    assert (ws.quarantine / "batch_bad.csv").exists()
    report = json.loads((ws.quarantine / "batch_bad.report.json").read_text())
    assert report["failing_columns"] == ["mean_radius", "mean_texture", "target"]
    # training input untouched: no new partition, none rewritten
    assert {p: ws.partition(p).read_bytes() for p in ws.partitions()} == partitions_before
    alerts = webhook.payloads[alerts_before:]
    assert len(alerts) == 1
    fields = alerts[0]["fields"]
    assert fields["dag_id"] == "mlw_data" and fields["task_id"] == "quarantine"
    assert "mean_radius" in fields["error"] and "rows 3, 7, 11" in fields["error"]
    [mail] = alert_email.messages  # the same alert by e-mail, through a real SMTP server
    assert "Airflow task failed: mlw_data.quarantine" in " ".join(str(mail["Subject"]).split())
    assert "rows 3, 7, 11" in mail.get_content()


@pytest.mark.parametrize(("shift", "expect_retrain"), [(0.0, False), (0.5, True)])
@pytest.mark.points(3)
def test_drift_triggers_retraining(trained: dict[str, Any], dags: dict[str, Any], ws: Workspace,
                                   shift: float, expect_retrain: bool) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    data.write_csv(data.make_batch(rows=200, seed=9, shift=shift, labelled=False), ws.batches)
    run = airflow_env.run_dag(dags[f"mlw_monitor_{MODEL}"], xcom_tasks=("compute_drift",))
    assert run.state == "success", run.tasks
    assert run.xcoms["compute_drift"]["drifted"] is expect_retrain
    assert run.tasks["trigger_retraining"] == ("success" if expect_retrain else "skipped")
    assert run.tasks["no_drift"] == ("skipped" if expect_retrain else "success")
    with create_session() as session:
        triggered = [r.conf for r in session.scalars(select(DagRun).where(
            DagRun.dag_id == f"mlw_train_{MODEL}")) if (r.conf or {}).get("reason") == "drift"]
    assert bool(triggered) is expect_retrain
    if expect_retrain:
        assert float(triggered[0]["max_psi"]) > 0.2


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.points(5)
def test_partitions_by_logical_date_and_retrain_records_lineage(
        trained: dict[str, Any], dags: dict[str, Any], ws: Workspace) -> None:
    """New data is a new partition; a drift retrain trains on it and records (partition, hash)."""
    registry = ModelRegistry(ws.registry)
    first = registry.get(MODEL, 1).metadata
    assert _sha256(ws.partition(first["data_partition"])) == first["data_sha256"]
    data.write_csv(data.make_batch(rows=800, seed=4), ws.incoming / "batch_0002.csv")
    logical_date = datetime(2030, 3, 1, 12, tzinfo=UTC)  # later than any test run's "now"
    run = airflow_env.run_dag(dags["mlw_data"], logical_date=logical_date,
                              xcom_tasks=("publish",))
    assert run.state == "success", run.tasks
    published = run.xcoms["publish"]
    assert published["partition"] == "20300301T120000Z"
    new = ws.partition("20300301T120000Z")
    assert published["sha256"] == _sha256(new)
    assert first["data_partition"] in ws.partitions()  # the first model's data is kept
    assert _sha256(ws.partition(first["data_partition"])) == first["data_sha256"]

    retrain = airflow_env.run_dag(dags[f"mlw_train_{MODEL}"],
                                  conf={"reason": "drift", "max_psi": "0.5", "trials": None},
                                  xcom_tasks=("register", "quality_gate"))
    assert retrain.state == "success", retrain.tasks
    assert retrain.tasks["register"] == "success", retrain.xcoms["quality_gate"]
    lineage = registry.get(MODEL, retrain.xcoms["register"]).metadata
    assert lineage["reason"] == "drift"
    assert (lineage["data_partition"], lineage["data_sha256"]) == (
        "20300301T120000Z", _sha256(new))
    assert lineage["data_sha256"] != first["data_sha256"]
