"""Retraining through a real Airflow 3.3 api-server: exactly one run per decision."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAG = "mlw_train_cancer_logreg"  # 105-04's training DAG id (a stub with that id here)


def _runs(server: Any) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = http.post("/auth/token", json={"username": "admin",
                                               "password": server.password}).json()
        response = http.get(f"/api/v2/dags/{DAG}/dagRuns",
                            headers={"Authorization": f"Bearer {token['access_token']}"})
        response.raise_for_status()
        runs: list[dict[str, Any]] = response.json()["dag_runs"]
        return runs


def _cli(copy_home: Callable[..., Cli], home: Path, server: Any, **env: str) -> Cli:
    # the monitored week belongs to credit_default; retrain 105-04's model instead
    settings = {"DRIFTWATCH_AIRFLOW__URL": server.url,
                "DRIFTWATCH_AIRFLOW__PASSWORD": server.password,
                "DRIFTWATCH_AIRFLOW__DAG_ID": DAG, **env}
    return copy_home(home, **settings)


@pytest.mark.points(5)
def test_the_same_decision_twice_gives_one_dag_run_with_its_conf(
        monitored_home: Path, copy_home: Callable[..., Cli], airflow_server: Any) -> None:
    cli = _cli(copy_home, monitored_home, airflow_server)
    first = cli.invoke("decide", "--json")
    assert first.exit_code == 0, first.output
    decision = json.loads(first.output)
    assert decision["action"] == "retrain" and decision["airflow"] == "created"
    second = cli.invoke("decide", "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["airflow"] == "already existed"
    runs = [r for r in _runs(airflow_server) if r["dag_run_id"] == decision["id"]]
    assert len(runs) == 1
    run = runs[0]
    assert run["state"] == "queued"  # no scheduler: the run waits, which is all we check
    assert run["conf"]["decision_id"] == decision["id"]
    assert run["conf"]["window"] == "2026-05-05T00:00:00Z"
    assert run["conf"]["reasons"] == decision["reasons"]
    assert any(r.startswith("realized drop") for r in run["conf"]["reasons"])
    log = [json.loads(line) for line in
           (cli.home / "audit" / "decisions.jsonl").read_text().splitlines()]
    assert [d["triggered"] for d in log] == [True, True]
    assert {d["dag_run_id"] for d in log} == {decision["id"]}


@pytest.mark.points(2)
def test_wrong_password_is_exit_8_and_not_recorded_as_triggered(
        monitored_home: Path, copy_home: Callable[..., Cli], airflow_server: Any) -> None:
    cli = _cli(copy_home, monitored_home, airflow_server, DRIFTWATCH_AIRFLOW__PASSWORD="nope")
    result = cli.invoke("decide")
    assert result.exit_code == 8 and "rejected the credentials" in result.output
    entry = json.loads((cli.home / "audit" / "decisions.jsonl").read_text())
    assert entry["triggered"] is False and entry["airflow"].startswith("error:")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_unknown_dag_is_exit_4(monitored_home: Path, copy_home: Callable[..., Cli],
                               airflow_server: Any) -> None:
    cli = _cli(copy_home, monitored_home, airflow_server,
               DRIFTWATCH_AIRFLOW__DAG_ID="mlw_train_nonexistent")
    result = cli.invoke("decide")
    assert result.exit_code == 4 and "no DAG 'mlw_train_nonexistent'" in result.output
    entry = json.loads((cli.home / "audit" / "decisions.jsonl").read_text())
    assert entry["triggered"] is False
