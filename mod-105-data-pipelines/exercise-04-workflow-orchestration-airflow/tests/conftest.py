"""Test environment: Airflow and the workspace live in private temp dirs (never ~/airflow).

Airflow reads its configuration on first import, so the environment is set here, at conftest
import time, before any test module imports airflow or mlworkflows' DAG code.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

EXERCISE = Path(__file__).resolve().parent.parent
DAGS = EXERCISE / "dags"
CONFIGS = EXERCISE / "configs"
_ROOT = Path(tempfile.mkdtemp(prefix="mlworkflows-tests-"))
AIRFLOW_HOME = _ROOT / "airflow"
WORKSPACE = _ROOT / "workspace"

os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__PARALLELISM": "2",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    "MLWORKFLOWS_HOME": str(WORKSPACE),
    "MLWORKFLOWS_CONFIGS_DIR": str(CONFIGS),
})
AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_ROOT, ignore_errors=True)


class Receiver:
    """A Slack-style incoming webhook on loopback that records every JSON body it gets."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        received = self.payloads

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def webhook() -> Iterator[Receiver]:
    receiver = Receiver()
    os.environ["MLWORKFLOWS_WEBHOOK_URL"] = receiver.url
    yield receiver
    os.environ.pop("MLWORKFLOWS_WEBHOOK_URL", None)
    receiver.stop()


@pytest.fixture(scope="session")
def workspace() -> Path:
    return WORKSPACE


@pytest.fixture
def alert_email(smtp_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Alert e-mails go to the shared SMTP sink (aiosmtpd) for this test."""
    monkeypatch.setenv("MLWORKFLOWS_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("MLWORKFLOWS_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("MLWORKFLOWS_ALERT_EMAIL_TO", "oncall@example.com, ml-team@example.com")
    monkeypatch.setenv("MLWORKFLOWS_ALERT_EMAIL_FROM", "airflow@example.com")
    return smtp_server
