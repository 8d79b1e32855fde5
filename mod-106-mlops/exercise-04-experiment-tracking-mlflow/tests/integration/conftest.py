"""One real stack for the whole session: PostgreSQL (shared fixture), moto S3 with a bucket,
and `mlflow server` started exactly as `mltrack server up` starts it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiinfra_shared.procs.ports import free_port

from mltrack.adapters.mlflow_server import Tracker
from mltrack.adapters.stack import start_mlflow_server
from mltrack.config import Settings

BUCKET = "mlflow-it"


@dataclass
class Stack:
    tracking_uri: str
    moto: Any
    bucket: str

    def s3_keys(self, prefix: str = "") -> list[str]:
        from mltrack.adapters.s3 import list_keys

        return list_keys(self.moto.client("s3"), self.bucket, prefix)


@pytest.fixture(scope="session")
def stack(postgres: Any, moto_server: Any, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Stack]:
    postgres.create_database("mlflow")
    moto_server.client("s3").create_bucket(Bucket=BUCKET)
    port = free_port()
    log_path = tmp_path_factory.mktemp("mlflow-server") / "mlflow.log"
    server = start_mlflow_server(
        postgres.url("mlflow", driver="postgresql+psycopg2"), f"s3://{BUCKET}/artifacts",
        "127.0.0.1", port, env=moto_server.env, log_path=log_path, workers=1, timeout=300,
    )
    yield Stack(f"http://127.0.0.1:{port}", moto_server, BUCKET)
    server.stop()


@pytest.fixture
def settings(stack: Stack, tmp_path: Path) -> Settings:
    """Settings with a unique model and experiment per test (tests stay independent)."""
    suffix = uuid.uuid4().hex[:8]
    return Settings(tracking_uri=stack.tracking_uri, state_dir=tmp_path / "state",
                    model_name=f"model-{suffix}", experiment=f"exp-{suffix}",
                    actor="pytest", retries=1, backoff_s=0.1)


@pytest.fixture
def tracker(settings: Settings) -> Tracker:
    return Tracker(settings.tracking_uri, retries=1, backoff_s=0.1)


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment that points the CLI at the same server, model and experiment."""
    return {
        "MLTRACK_TRACKING_URI": settings.tracking_uri,
        "MLTRACK_STATE_DIR": str(settings.state_dir),
        "MLTRACK_MODEL_NAME": settings.model_name,
        "MLTRACK_EXPERIMENT": settings.experiment,
        "MLTRACK_ACTOR": "pytest",
        "MLTRACK_RETRIES": "1",
    }
