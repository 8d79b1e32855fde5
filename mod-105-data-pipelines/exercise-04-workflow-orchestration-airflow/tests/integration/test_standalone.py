"""`airflow standalone` for real: trigger a training run over REST v2, read it with sla-report.

Bounded: the server must be up within 240 s and the run must finish within 240 s, else the
test fails with the server's log tail. Parallelism 2 keeps it polite on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlworkflows import data
from mlworkflows.adapters.airflow_api import AirflowApiError, AirflowClient
from mlworkflows.workspace import Workspace
from tests.conftest import CONFIGS, DAGS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent
PASSWORD = "standalone-test-pw"


@pytest.mark.timeout(900)
@pytest.mark.points(5)
def test_standalone_trigger_and_sla_report(tmp_path: Path, free_port: int,
                                           service_process: Any) -> None:
    home, ws_root = tmp_path / "airflow", tmp_path / "ws"
    home.mkdir()
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": PASSWORD}))
    ws = Workspace(ws_root).ensure()
    data.write_csv(data.make_batch(rows=300), ws.partition("20260101T000000Z"))
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
    }
    base = f"http://127.0.0.1:{free_port}"
    server = service_process("airflow-standalone", [str(BIN / "airflow"), "standalone"],
                             env=env, ready_http=f"{base}/api/v2/monitor/health", timeout=240)
    dag_id = "mlw_train_cancer_logreg"
    with AirflowClient(base, "admin", PASSWORD, timeout=20) as client:
        deadline = time.monotonic() + 180
        while True:  # the dag-processor needs a moment to serialise the DAG files
            try:
                client.get(f"/api/v2/dags/{dag_id}")
                break
            except AirflowApiError:
                if time.monotonic() > deadline or not server.is_running():
                    pytest.fail(f"{dag_id} never appeared; log:\n{server.log_tail(60)}")
                time.sleep(3)
        client.unpause(dag_id)
        run = client.trigger(dag_id, conf={"reason": "standalone-test"})
        deadline = time.monotonic() + 240
        state = run["state"]
        while state not in {"success", "failed"}:
            if time.monotonic() > deadline:
                pytest.fail(f"run stuck in {state}; log:\n{server.log_tail(60)}")
            time.sleep(3)
            state = client.dag_run(dag_id, run["dag_run_id"])["state"]
    assert state == "success", server.log_tail(80)
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
