"""`airflow standalone` for real: a data file dropped into incoming/ is claimed by the data
DAG's asset watcher (triggerer), the data run publishes it and the training DAG runs on that
asset; a run that cannot start misses its Deadline Alert, whose callback (triggerer) e-mails
the shared SMTP sink; sla-report reads the runs back over REST v2.

Bounded: the server must be up within 240 s and each wait ends within 240 s, else the test
fails with the server's log tail. Parallelism 2 keeps it polite on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlworkflows import data
from mlworkflows.adapters.airflow_api import (
    AirflowApiError,
    AirflowApiUnavailableError,
    AirflowClient,
)
from mlworkflows.dag_factories import DATA_DAG_ID
from mlworkflows.workspace import Workspace
from tests.conftest import CONFIGS, DAGS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent
PASSWORD = "standalone-test-pw"


def _wait(what: str, check: Callable[[], Any], server: Any, seconds: float = 240) -> Any:
    """Poll `check` until it returns something truthy; fail with the server log otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = check()
        except AirflowApiUnavailableError:  # a slow answer on a loaded machine: poll again
            found = None
        if found:
            return found
        if time.monotonic() > deadline or not server.is_running():
            pytest.fail(f"{what}: not within {seconds:g} s; log:\n{server.log_tail(80)}")
        time.sleep(3)


def _runs(client: AirflowClient, dag_id: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"])


@pytest.mark.timeout(900)
@pytest.mark.points(8)
def test_standalone_watcher_deadline_email_and_sla_report(
        tmp_path: Path, free_port: int, service_process: Any, smtp_server: Any,
        webhook: Any) -> None:
    home, ws_root = tmp_path / "airflow", tmp_path / "ws"
    home.mkdir()
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": PASSWORD}))
    ws = Workspace(ws_root).ensure()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API__PORT": str(free_port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        # workers reach the Execution API on the api-server; its default assumes port 8080
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{free_port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "MLWORKFLOWS_HOME": str(ws_root),
        "MLWORKFLOWS_CONFIGS_DIR": str(CONFIGS),
        # Deadline Alerts 3 s after a run is queued; alerts to the webhook receiver and by
        # e-mail to the SMTP sink
        "MLWORKFLOWS_DEADLINE_MINUTES": "0.05",
        "MLWORKFLOWS_WEBHOOK_URL": webhook.url,
        "MLWORKFLOWS_SMTP_HOST": smtp_server.host,
        "MLWORKFLOWS_SMTP_PORT": str(smtp_server.port),
        "MLWORKFLOWS_ALERT_EMAIL_TO": "oncall@example.com",
    }
    base = f"http://127.0.0.1:{free_port}"
    server = service_process("airflow-standalone", [str(BIN / "airflow"), "standalone"],
                             env=env, ready_http=f"{base}/api/v2/monitor/health", timeout=240)
    dag_id, late_dag = "mlw_train_cancer_logreg", "mlw_train_cancer_forest"
    with AirflowClient(base, "admin", PASSWORD, timeout=60) as client:
        def parsed() -> bool:  # the dag-processor needs a moment to serialise the DAG files
            try:
                for dag in (DATA_DAG_ID, dag_id, late_dag):
                    client.get(f"/api/v2/dags/{dag}")
            except AirflowApiError:
                return False
            return True

        _wait("DAGs parsed", parsed, server, 180)
        # Deadline Alert: a run of a paused DAG stays queued, so it cannot finish in time
        late = client.trigger(late_dag, conf={"reason": "deadline-test"})

        # Event-driven data DAG: unpause, then drop a file; no clock starts any run
        client.unpause(DATA_DAG_ID)
        client.unpause(dag_id)
        data.write_csv(data.make_batch(rows=300), ws.incoming / "batch_0001.csv")

        def finished(dag: str) -> Callable[[], list[dict[str, Any]]]:
            return lambda: [r for r in _runs(client, dag) if r["state"] in {"success", "failed"}]

        [data_run] = _wait("data run started by the watcher", finished(DATA_DAG_ID), server)
        assert data_run["state"] == "success", server.log_tail(80)
        assert data_run["run_type"] == "asset_triggered"
        [train_run] = _wait("training run on the validated-data asset", finished(dag_id), server)
        assert train_run["state"] == "success", server.log_tail(80)
        assert train_run["run_type"] == "asset_triggered"
        assert [r["run_type"] for r in _runs(client, DATA_DAG_ID)] == ["asset_triggered"]
        assert not list(ws.incoming.glob("*.csv")) and not list(ws.arrived.glob("*.csv"))
        assert len(ws.partitions()) == 1

        def deadline_mail() -> list[Any]:
            return [m for m in smtp_server.messages
                    if f"Deadline missed: {late_dag}" in " ".join(str(m["Subject"]).split())]

        [mail] = _wait("Deadline Alert e-mail", deadline_mail, server)
        assert f"run_id: {late['dag_run_id']}" in mail.get_content()
        # the callback posts before it mails: the webhook already has the same alert
        hooks = [p for p in webhook.payloads if p["fields"].get("run_id") == late["dag_run_id"]]
        assert len(hooks) == 1 and hooks[0]["text"].endswith("within 0.05 min")
        assert hooks[0]["fields"]["deadline"]  # the deadline time, as an ISO string
        # it fired while the run was still queued: the deadline was really missed
        assert client.dag_run(late_dag, late["dag_run_id"])["state"] == "queued"
    assert (ws_root / "registry" / "cancer_logreg" / "production.json").exists()

    report_env = {**env, "MLWORKFLOWS_API_URL": base, "MLWORKFLOWS_API_USERNAME": "admin",
                  "MLWORKFLOWS_API_PASSWORDS_FILE": str(passwords),
                  "MLWORKFLOWS_SLA_TARGETS": json.dumps({"mlw_train_*": 600})}
    report_env.pop("MLWORKFLOWS_API_PASSWORD", None)
    proc = subprocess.run([str(BIN / "mlworkflows"), "sla-report", "--json"], env=report_env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = {r["dag_id"]: r for r in json.loads(proc.stdout)["dags"]}
    train = rows[dag_id]
    assert train["runs"] >= 1 and train["target_s"] == 600
    assert train["met"] + train["missed"] >= 1 and train["compliance_pct"] is not None
    assert train["slowest_task"] is not None

    wrong = subprocess.run([str(BIN / "mlworkflows"), "sla-report"],
                           env={**report_env, "MLWORKFLOWS_API_PASSWORD": "wrong"},
                           capture_output=True, text=True, timeout=60, check=False)
    assert wrong.returncode == 1 and "rejected the credentials" in wrong.stderr
    assert httpx.get(f"{base}/api/v2/dags", timeout=10).status_code == 401
