"""Real components for the integration tests, started once per session.

The Kafka broker (noida-db), PostgreSQL and moto come from the shared fixtures; the schema
registry is this exercise's own server, run in a thread; ONE SparkSession serves every Spark
test (a session costs 5-9 s here). Each test gets its own topic names and group ids from
`make_settings`, so tests sharing the broker never read each other's records.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streamml.config import (
    KafkaSettings,
    QualitySettings,
    ScoringSettings,
    Settings,
    SinkSettings,
    SparkSettings,
)
from streamml.registry import RegistryServer, SchemaStore

EXE = str(Path(sys.executable).parent / "streamml")
_counter = itertools.count()


@pytest.fixture(scope="session")
def registry() -> Iterator[RegistryServer]:
    server = RegistryServer(SchemaStore()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aws_env(moto_server: Any) -> dict[str, str]:
    for key, value in moto_server.env.items():
        os.environ[key] = value
    return dict(moto_server.env)


def build_settings(name: str, base: Path, bootstrap: str, registry_url: str, pg_dsn: str,
                   **spark: Any) -> Settings:
    """Settings with private topics / groups / table / bucket under the tag `name-N`."""
    tag = f"{name}-{next(_counter)}"
    slug = tag.replace("-", "_")
    kafka = KafkaSettings(
        bootstrap_servers=bootstrap,
        schema_registry_url=registry_url, broker_timeout_seconds=10, partitions=3,
        events_topic=f"{tag}.raw", valid_topic=f"{tag}.valid", dlq_topic=f"{tag}.dlq",
        features_topic=f"{tag}.features", markers_topic=f"{tag}.markers",
        predictions_topic=f"{tag}.predictions")
    return Settings(
        kafka=kafka,
        quality=QualitySettings(group_id=f"{tag}-validate", transaction_records=200),
        spark=SparkSettings(checkpoint_dir=base / "checkpoint", **spark),
        sinks=SinkSettings(s3_endpoint_url=os.environ.get("AWS_ENDPOINT_URL", ""),
                           s3_bucket=f"{tag}-bucket", postgres_dsn=pg_dsn,
                           features_table=f"features_{slug}"),
        scoring=ScoringSettings(group_id=f"{tag}-score", instance_id="score-0",
                                transaction_records=50,
                                model_path=base / "model" / "model.joblib"))


@pytest.fixture
def make_settings(kafka_broker: Any, registry: RegistryServer, postgres: Any,
                  tmp_path: Path) -> Callable[..., Settings]:
    """Settings with private topics / groups / table / bucket for one test."""

    def make(name: str, **spark: Any) -> Settings:
        return build_settings(name, tmp_path, kafka_broker.bootstrap_servers, registry.url,
                              postgres.dsn, **spark)

    return make


def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings as STREAMML_* environment variables, for subprocesses."""
    env = dict(os.environ)
    for section in ("kafka", "quality", "spark", "sinks", "scoring"):
        for key, value in getattr(settings, section).model_dump().items():
            if value is not None:
                env[f"STREAMML_{section.upper()}__{key.upper()}"] = str(value)
    return env


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from streamml.spark.job import spark_session

    session = spark_session()
    yield session
    gateway = session.sparkContext._gateway  # the py4j gateway that launched the JVM
    session.stop()
    # stop() leaves the JVM running until this interpreter exits: end it with the session
    gateway.shutdown()
    proc = getattr(gateway, "proc", None)
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=30)


@dataclass
class PipelineRun:
    """What one end-to-end run (with a crash drill in the Spark job) left behind."""

    settings: Settings
    produced: dict[str, int]
    validated: Any
    crash_error: str
    first_run: list[dict[str, Any]]
    second_run: list[dict[str, Any]]
    rows_after_crash: list[tuple[Any, ...]]
    topic_after_crash: int
    card: Any
    scored: Any


@pytest.fixture(scope="session")
def pipeline_run(kafka_broker: Any, registry: RegistryServer, postgres: Any,
                 aws_env: dict[str, str], spark: Any,
                 tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """produce -> validate -> Spark (crash after batch 1, restart) -> train -> score."""
    from streamml import stages
    from streamml.adapters import postgres as pg
    from streamml.events import EventPlan
    from streamml.stages import FeatureQueryError
    from tests.helpers import read_topic

    s = build_settings("pipe", tmp_path_factory.mktemp("pipeline"),
                       kafka_broker.bootstrap_servers, registry.url, postgres.dsn,
                       max_records_per_batch=300, window_seconds=60, watermark_seconds=30)
    s.sinks.s3_endpoint_url = aws_env["AWS_ENDPOINT_URL"]
    stages.create_topics(s)
    start = int(time.time() * 1000) - 1000 * 1000
    produced = stages.produce_events(s, EventPlan(
        events=1000, users=20, start_ms=start, spacing_ms=1000, late=5, poison=3,
        unknown_schema=2, invalid=4, duplicates=6, out_of_order=30))
    validated = stages.run_validate(s, idle_exit=1.5, handle_signals=False)
    try:
        first_run = stages.run_features(s, spark, crash_after_batch=1)
        crash_error = ""
    except FeatureQueryError as exc:
        crash_error, first_run = str(exc), exc.progress
    with pg.connect(s.sinks.postgres_dsn) as conn:
        rows_after_crash = pg.all_rows(conn, s.sinks.features_table)
    topic_after_crash = len(read_topic(s.kafka.bootstrap_servers, s.kafka.features_topic))
    second_run = stages.run_features(s, spark)
    card = stages.run_train(s)
    scored = stages.run_score(s, idle_exit=1.5, handle_signals=False)
    return PipelineRun(s, dict(produced), validated, crash_error, first_run, second_run,
                       rows_after_crash, topic_after_crash, card, scored)
