"""Run Airflow locally: environment, metadata DB and `dag.test()` runs.

Airflow reads its configuration when first imported, so `configure()` must run before any
`airflow` import in the process. Tests and `mlworkflows run` use SQLite under a private
AIRFLOW_HOME (never ~/airflow); production uses PostgreSQL (see README).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def airflow_environment(airflow_home: Path, dags_folder: Path,
                        mlworkflows_home: Path | None = None) -> dict[str, str]:
    env = {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        # generous on a busy 2-core machine; the files themselves parse in well under 2 s
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
    }
    if mlworkflows_home is not None:
        env["MLWORKFLOWS_HOME"] = str(mlworkflows_home)
    return env


def configure(airflow_home: Path, dags_folder: Path, mlworkflows_home: Path | None = None) -> None:
    current = os.environ.get("AIRFLOW_HOME")
    if "airflow" in sys.modules and current != str(airflow_home):
        log.warning("airflow already imported with AIRFLOW_HOME=%s", current)
    airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(airflow_environment(airflow_home, dags_folder, mlworkflows_home))


def init_db() -> None:
    """Create (or migrate) the metadata DB; idempotent."""
    from airflow.utils import db

    with contextlib.redirect_stdout(io.StringIO()):
        db.initdb()


@dataclass
class RunResult:
    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str]
    xcoms: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.state == "success"


def load_dags(dags_folder: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse the DAG folder the way the dag-processor does: (dags, import errors)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder))
    return dict(bag.dags), dict(bag.import_errors)


def run_dag(dag: Any, conf: dict[str, Any] | None = None,
            xcom_tasks: tuple[str, ...] = (), logical_date: Any = None) -> RunResult:
    """One `dag.test()` run; returns every task's final state and chosen XCom values.

    `logical_date` (an aware datetime) defaults to now, as in `airflow dags test`.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    # Airflow 3.3.2's dag.test() hands the run a DAG whose `deadline` holds serialized dicts
    # instead of DeadlineAlert row ids, and update_state() then crashes looking them up. The
    # real scheduler is unaffected, so Deadline Alerts stay on the DAG everywhere else and are
    # only detached for the duration of a local test run.
    deadline = getattr(dag, "deadline", None)
    dag.deadline = None
    try:
        dag_run = (dag.test(run_conf=conf) if logical_date is None
                   else dag.test(run_conf=conf, logical_date=logical_date))
    finally:
        dag.deadline = deadline
    tasks: dict[str, str] = {}
    xcoms: dict[str, Any] = {}
    with create_session() as session:
        rows = session.scalars(select(TaskInstance).where(
            TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == dag_run.run_id)).all()
        for ti in rows:
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            tasks[key] = str(getattr(ti.state, "value", ti.state))
        for task_id in xcom_tasks:
            row = session.scalars(select(XComModel).where(
                XComModel.dag_id == dag.dag_id, XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id, XComModel.key == "return_value")).first()
            xcoms[task_id] = XComModel.deserialize_value(row) if row is not None else None
    state = dag_run.state.value if hasattr(dag_run.state, "value") else str(dag_run.state)
    return RunResult(dag.dag_id, dag_run.run_id, str(state), tasks, xcoms)
