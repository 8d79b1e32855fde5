"""`streamml pipeline up`: the whole pipeline on this machine, end to end (what `make run` runs).

Starts the real servers on loopback (noida-db as the Kafka broker, moto as S3, a private
PostgreSQL, the schema registry, a metrics endpoint with the lag exporter), then runs every
stage once over a generated stream with defects: produce -> validate -> Spark features
(Parquet on S3, PostgreSQL, features topic) -> train -> score, and prints where to look.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamml import metrics
from streamml.config import (
    KafkaSettings,
    ScoringSettings,
    Settings,
    SinkSettings,
    SparkSettings,
)
from streamml.events import EventPlan


@dataclass
class Stack:
    """Where the running servers are."""

    settings: Settings
    metrics_url: str
    work_dir: Path
    servers: dict[str, str] = field(default_factory=dict)


@contextmanager
def local_stack(work_dir: Path | None = None, log: Callable[[str], None] = print
                ) -> Iterator[Stack]:
    """Start broker, S3, PostgreSQL, registry and the metrics endpoint; stop them after."""
    from aiinfra_shared.procs import free_port
    from aiinfra_shared.procs.services import (
        start_kafka_broker,
        start_moto_server,
        start_postgres,
    )

    from streamml.registry import RegistryServer, SchemaStore

    with ExitStack() as stack:
        base = Path(work_dir or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="streamml-")))
        base.mkdir(parents=True, exist_ok=True)
        log("starting Kafka broker (noida-db), S3 (moto), PostgreSQL, schema registry...")
        broker = start_kafka_broker(base / "kafka")
        stack.callback(broker.stop)
        moto = start_moto_server(base / "moto")
        stack.callback(moto.stop)
        pg = start_postgres()
        stack.callback(pg.stop)
        registry = RegistryServer(SchemaStore.open(base / "registry.json")).start()
        stack.callback(registry.stop)
        import os

        for key, value in moto.env.items():
            os.environ.setdefault(key, value)
        settings = Settings(
            kafka=KafkaSettings(bootstrap_servers=broker.bootstrap_servers,
                                schema_registry_url=registry.url),
            spark=SparkSettings(checkpoint_dir=base / "spark-checkpoint",
                                max_records_per_batch=500),
            sinks=SinkSettings(s3_endpoint_url=moto.endpoint_url, postgres_dsn=pg.dsn),
            scoring=ScoringSettings(model_path=base / "model" / "model.joblib"))
        from prometheus_client import REGISTRY

        from streamml.metrics import LagCollector, LagTarget

        port = free_port()
        REGISTRY.register(LagCollector(broker.bootstrap_servers, [
            LagTarget(settings.quality.group_id, settings.kafka.events_topic),
            LagTarget(settings.scoring.group_id, settings.kafka.valid_topic)]))
        server = metrics.serve_metrics(port)
        stack.callback(lambda: server.shutdown())  # type: ignore[attr-defined]
        yield Stack(settings=settings, metrics_url=f"http://127.0.0.1:{port}/metrics",
                    work_dir=base, servers={
                        "Kafka bootstrap": broker.bootstrap_servers,
                        "schema registry": registry.url,
                        "S3 (moto)": moto.endpoint_url,
                        "PostgreSQL": pg.dsn,
                        "metrics (Prometheus format)": f"http://127.0.0.1:{port}/metrics"})


@dataclass
class PipelineReport:
    produced: dict[str, int]
    validate: dict[str, Any]
    spark_batches: list[dict[str, Any]]
    model: dict[str, Any]
    scored: int
    seconds: dict[str, float]


def run_once(stack: Stack, plan: EventPlan, log: Callable[[str], None] = print,
             spark: Any = None) -> PipelineReport:
    """Every stage once over `plan`'s events."""
    from dataclasses import asdict

    from streamml import stages

    s = stack.settings
    seconds: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        start = time.monotonic()
        log(f"- {name}...")
        result = fn()
        seconds[name] = round(time.monotonic() - start, 2)
        return result

    timed("create topics", lambda: stages.create_topics(s))
    produced = timed("produce", lambda: stages.produce_events(s, plan))
    validated = timed("validate", lambda: stages.run_validate(s, idle_exit=2.0,
                                                              handle_signals=False))
    batches = timed("spark features", lambda: stages.run_features(s, spark))
    card = timed("train", lambda: stages.run_train(s))
    scored = timed("score", lambda: stages.run_score(s, idle_exit=2.0, handle_signals=False))
    return PipelineReport(produced=dict(produced),
                          validate={"in": validated.stats.records_in,
                                    "out": validated.stats.records_out,
                                    "counts": dict(validated.counts)},
                          spark_batches=batches, model=asdict(card),
                          scored=scored.records_out, seconds=seconds)
