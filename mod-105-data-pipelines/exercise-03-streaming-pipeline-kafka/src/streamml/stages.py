"""The pipeline's stages wired to their adapters: what the CLI commands and `pipeline up` run.

Each function takes the settings, builds its clients, runs one stage and returns what it did.
The logic lives in the modules they call (quality, processor, spark.*, model, scoring).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from streamml.adapters import kafka, postgres, s3
from streamml.adapters.serde import EventCodec
from streamml.config import Settings
from streamml.events import EventPlan, generate
from streamml.processor import ProcessorOptions, RunStats, run_stage
from streamml.quality import Deduplicator, QualityChecker, default_rules

log = logging.getLogger(__name__)


def topic_specs(settings: Settings) -> list[kafka.TopicSpec]:
    k = settings.kafka
    return [kafka.TopicSpec(k.events_topic, k.partitions),
            kafka.TopicSpec(k.valid_topic, k.partitions),
            kafka.TopicSpec(k.dlq_topic, k.partitions),
            kafka.TopicSpec(k.features_topic, k.partitions),
            kafka.TopicSpec(k.predictions_topic, k.partitions),
            kafka.TopicSpec(k.markers_topic, 1, compacted=True)]


def create_topics(settings: Settings) -> list[str]:
    kafka.ensure_topics(settings.kafka.bootstrap_servers, topic_specs(settings),
                        settings.kafka.broker_timeout_seconds)
    return [spec.name for spec in topic_specs(settings)]


def produce_events(settings: Settings, plan: EventPlan,
                   progress: Callable[[int], None] | None = None) -> Counter[str]:
    """Send `plan`'s messages to the events topic with an idempotent producer."""
    k = settings.kafka
    kafka.require_topics(k.bootstrap_servers, [k.events_topic], k.broker_timeout_seconds)
    codec = EventCodec(k.schema_registry_url)
    producer = Producer(kafka.producer_config(k.bootstrap_servers))
    counts: Counter[str] = Counter()
    failures: list[str] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(str(error))

    for item in generate(plan):
        value = item.raw if item.raw is not None else codec.encode(k.events_topic,
                                                                   item.event or {})
        while True:
            try:
                producer.produce(k.events_topic, key=item.key, value=value,
                                 on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        counts[item.kind] += 1
        if progress is not None:
            progress(1)
    left = producer.flush(k.broker_timeout_seconds)
    if left or failures:
        from streamml.errors import BrokerUnavailableError

        raise BrokerUnavailableError(f"{left + len(failures)} events were not delivered to "
                                f"{k.bootstrap_servers}" + (f": {failures[0]}" if failures
                                                            else ""))
    return counts


@dataclass
class ValidateResult:
    stats: RunStats
    counts: Counter[str]


def run_validate(settings: Settings, *, idle_exit: float | None = 3.0,
                 max_records: int | None = None, handle_signals: bool = True) -> ValidateResult:
    k, q = settings.kafka, settings.quality
    kafka.require_topics(k.bootstrap_servers, [k.events_topic, k.valid_topic, k.dlq_topic],
                         k.broker_timeout_seconds)
    from streamml.validate import ValidateTransform

    checker = QualityChecker(
        default_rules(q.max_amount, int(q.max_future_skew_seconds * 1000),
                      lambda: int(time.time() * 1000)),
        Deduplicator(q.dedup_capacity))
    transform = ValidateTransform(EventCodec(k.schema_registry_url), checker, k.valid_topic,
                                  k.dlq_topic)
    options = ProcessorOptions(
        bootstrap=k.bootstrap_servers, group_id=q.group_id, instance_id=q.instance_id,
        topics=[k.events_topic], stage="validate",
        records_per_transaction=q.transaction_records, idle_exit_seconds=idle_exit,
        max_records=max_records, broker_timeout=k.broker_timeout_seconds)
    stats = run_stage(options, transform, handle_signals)
    return ValidateResult(stats, checker.counts)


def feature_sinks(settings: Settings) -> list[Any]:
    """The three sinks of the feature job (training, serving, topic)."""
    from streamml.eos_sink import ExactlyOnceKafkaSink
    from streamml.spark.sinks import KafkaFeatureSink, ParquetSink, PostgresSink

    k, sk = settings.kafka, settings.sinks
    s3.ensure_bucket(sk.s3_endpoint_url, sk.aws_region, sk.s3_bucket)
    with postgres.connect(sk.postgres_dsn) as conn:
        postgres.ensure_table(conn, sk.features_table)
    return [
        ParquetSink(s3.filesystem(sk.s3_endpoint_url, sk.aws_region),
                    f"{sk.s3_bucket}/{sk.s3_prefix}"),
        PostgresSink(sk.postgres_dsn, sk.features_table),
        KafkaFeatureSink(ExactlyOnceKafkaSink(k.bootstrap_servers, k.features_topic,
                                              k.markers_topic, "features",
                                              k.broker_timeout_seconds)),
    ]


def run_features(settings: Settings, spark: Any = None, *, available_now: bool = True,
                 crash_after_batch: int | None = None, timeout: float | None = None
                 ) -> list[dict[str, Any]]:
    """Run the feature query (until caught up with availableNow); returns batch progress."""
    from streamml.spark.job import FeatureJob, ProgressListener, spark_session

    k, sp = settings.kafka, settings.spark
    kafka.require_topics(k.bootstrap_servers, [k.valid_topic], k.broker_timeout_seconds)
    spark = spark or spark_session(sp.shuffle_partitions)
    listener = ProgressListener()
    spark.streams.addListener(listener)
    try:
        job = FeatureJob(bootstrap=k.bootstrap_servers, registry_url=k.schema_registry_url,
                         topic=k.valid_topic, checkpoint_dir=Path(sp.checkpoint_dir).resolve(),
                         sinks=feature_sinks(settings), window_seconds=sp.window_seconds,
                         slide_seconds=sp.slide_seconds,
                         watermark_seconds=sp.watermark_seconds,
                         max_records_per_batch=sp.max_records_per_batch,
                         available_now=available_now, crash_after_batch=crash_after_batch)
        query = job.start(spark)
        from pyspark.errors import StreamingQueryException

        failure: str | None = None
        try:
            query.awaitTermination(int(timeout) if timeout is not None else None)
        except StreamingQueryException as exc:
            failure = _root_cause(exc.getMessage() or str(exc))
        finally:
            if query.isActive:
                query.stop()
        _wait_for_listener(query, listener)
        if failure is not None:
            raise FeatureQueryError(failure, list(listener.progress))
        return list(listener.progress)
    finally:
        spark.streams.removeListener(listener)


def _root_cause(message: str) -> str:
    """The Python exception line inside Spark's wrapped error, else its first line.

    A foreachBatch failure arrives as a JVM error whose text embeds the Python traceback;
    the useful line is the traceback's last one (`module.Error: what happened`).
    """
    lines = [line for line in message.splitlines() if line.strip()]
    python = [line for line in lines if not line.startswith((" ", "\t"))
              and ": " in line and not line.startswith(("Traceback", "org.", "py4j.",
                                                         "[", "java."))]
    return python[-1].strip() if python else (lines[0].strip() if lines else "unknown error")


def _wait_for_listener(query: Any, listener: Any, timeout: float = 10.0) -> None:
    """Listener events arrive asynchronously: wait until the last batch's progress is in."""
    last = query.lastProgress
    deadline = time.monotonic() + timeout
    while last and time.monotonic() < deadline and not any(
            p["batch_id"] == last["batchId"] for p in listener.progress):
        time.sleep(0.1)


class FeatureQueryError(RuntimeError):
    """The Spark query stopped with an error (its checkpoint lets a rerun resume)."""

    exit_code = 1

    def __init__(self, message: str, progress: list[dict[str, Any]]) -> None:
        super().__init__(f"feature query failed: {message}")
        self.progress = progress


def read_training_features(settings: Settings) -> Any:
    """All feature rows the Spark job wrote to S3, as pandas."""
    import pyarrow.dataset as ds

    sk = settings.sinks
    dataset = ds.dataset(f"{sk.s3_bucket}/{sk.s3_prefix}",
                         filesystem=s3.filesystem(sk.s3_endpoint_url, sk.aws_region),
                         format="parquet", partitioning="hive")
    return dataset.to_table().to_pandas()


def run_train(settings: Settings) -> Any:
    from streamml import model

    frame = read_training_features(settings)
    fitted, card = model.train(frame)
    model.save(fitted, card, Path(settings.scoring.model_path))
    return card


def run_score(settings: Settings, *, idle_exit: float | None = 3.0,
              max_records: int | None = None, exactly_once: bool = True,
              fault_pause_after: int | None = None, handle_signals: bool = True,
              records_per_transaction: int | None = None) -> RunStats:
    from streamml import model
    from streamml.scoring import ScoreTransform

    k, sc, sk = settings.kafka, settings.scoring, settings.sinks
    kafka.require_topics(k.bootstrap_servers, [k.valid_topic, k.predictions_topic],
                         k.broker_timeout_seconds)
    fitted, card = model.load(Path(sc.model_path))
    conn = postgres.connect(sk.postgres_dsn)
    postgres.ensure_table(conn, sk.features_table)

    def lookup(users: list[str]) -> dict[str, dict[str, Any]]:
        return postgres.latest_features(conn, sk.features_table, users)

    transform = ScoreTransform(EventCodec(k.schema_registry_url), fitted, card, lookup,
                               k.predictions_topic)
    options = ProcessorOptions(
        bootstrap=k.bootstrap_servers, group_id=sc.group_id, instance_id=sc.instance_id,
        topics=[k.valid_topic], stage="score",
        records_per_transaction=records_per_transaction or sc.transaction_records,
        exactly_once=exactly_once, idle_exit_seconds=idle_exit, max_records=max_records,
        broker_timeout=k.broker_timeout_seconds, fault_pause_after=fault_pause_after)
    try:
        return run_stage(options, transform, handle_signals)
    finally:
        conn.close()
