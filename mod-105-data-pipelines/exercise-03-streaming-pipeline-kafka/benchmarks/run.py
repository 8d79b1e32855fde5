"""Benchmarks for streamml; writes benchmarks/results.json and the README's benchmark table.

Everything runs against the real components on loopback: noida-db as the Kafka broker, the
schema registry in a thread, a private PostgreSQL, local Spark.

1. scoring throughput, one transaction per 500 records vs one per record: the scoring stage
   (decode, PostgreSQL feature lookup, predict, produce, commit) over BENCH_EVENTS events
   (BENCH_SMALL for the per-record side, which is slow), A-B-B-A over BENCH_ROUNDS rounds;
   time is the stage's busy time (first input to last commit: group join excluded)
2. exactly-once vs at-least-once at 500 records per commit: same stage, A-B-B-A
3. event-to-output latency: events produced at BENCH_RATE/s with event_time = now while the
   scorer runs; latency = arrival at a read_committed consumer of the predictions - event
   time (so the commit is included); p50 / p95 over BENCH_LATENCY_EVENTS events
4. Spark rows/s: the feature query (Kafka data source, decode, windows, watermark) over
   BENCH_SPARK_ROWS rows, Trigger.AvailableNow, fresh checkpoint, BENCH_SPARK_RUNS runs after
   one warm-up (a counting sink, so S3/PostgreSQL are not what is measured)

Knobs: BENCH_EVENTS (2000), BENCH_SMALL (300), BENCH_ROUNDS (3), BENCH_RATE (400),
BENCH_LATENCY_EVENTS (2000), BENCH_SPARK_ROWS (20000), BENCH_SPARK_RUNS (3).
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from aiinfra_shared.bench import (
    compare_abba,
    markdown_table,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.procs.services import start_kafka_broker, start_postgres
from confluent_kafka import Consumer, Producer

from streamml import model, stages
from streamml.adapters import kafka
from streamml.adapters.serde import EventCodec
from streamml.config import KafkaSettings, ScoringSettings, Settings, SinkSettings
from streamml.events import make_event
from streamml.registry import RegistryServer, SchemaStore

HERE = Path(__file__).resolve().parent
OUT = HERE / "results.json"
README = HERE.parent / "README.md"

EVENTS = int(os.environ.get("BENCH_EVENTS", "2000"))
SMALL = int(os.environ.get("BENCH_SMALL", "300"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
RATE = int(os.environ.get("BENCH_RATE", "400"))
LATENCY_EVENTS = int(os.environ.get("BENCH_LATENCY_EVENTS", "2000"))
SPARK_ROWS = int(os.environ.get("BENCH_SPARK_ROWS", "20000"))
SPARK_RUNS = int(os.environ.get("BENCH_SPARK_RUNS", "3"))
BATCH_GOAL = 10.0
EOS_GOAL = 0.5
_ids = itertools.count()


def events(n: int, start_ms: int | None = None) -> list[dict[str, Any]]:
    rng = random.Random(5)  # noqa: S311 - synthetic data
    base = start_ms if start_ms is not None else int(time.time() * 1000) - n * 10
    return [make_event(rng, f"user-{i % 50:04d}", base + i * 10, 5) for i in range(n)]


def produce(settings: Settings, topic: str, batch: list[dict[str, Any]]) -> None:
    codec = EventCodec(settings.kafka.schema_registry_url)
    producer = Producer(kafka.producer_config(settings.kafka.bootstrap_servers))
    for event in batch:
        producer.produce(topic, key=event["user_id"], value=codec.encode(topic, event))
        producer.poll(0)
    producer.flush(30)


def synthetic_features(users: int = 50, windows: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2025-06-15T00:00:00Z")
    rows = []
    for u in range(users):
        for w in range(windows):
            n = int(rng.integers(5, 15))
            purchases = int(rng.binomial(n, 0.02 + 0.3 * u / users))
            rows.append({"user_id": f"user-{u:04d}",
                         "window_start": start + pd.Timedelta(minutes=w),
                         "window_end": start + pd.Timedelta(minutes=w + 1), "n_events": n,
                         "n_views": n - purchases, "n_clicks": 0, "n_purchases": purchases,
                         "total_amount": 50.0 * purchases, "avg_amount": 50.0 * purchases / n,
                         "last_event_time": start + pd.Timedelta(minutes=w, seconds=30)})
    return pd.DataFrame(rows)


def score_run(settings: Settings, records: int, per_txn: int, exactly_once: bool = True
              ) -> float:
    """Seconds per record of one scoring run over `records` inputs (fresh group, fresh id)."""
    run = next(_ids)
    settings.scoring.group_id = f"bench-score-{run}"
    settings.scoring.instance_id = f"bench-{run}"
    stats = stages.run_score(settings, idle_exit=2.0, max_records=records,
                             exactly_once=exactly_once, handle_signals=False,
                             records_per_transaction=per_txn)
    assert stats.records_in == records, stats
    return stats.busy_seconds / records


def latency_run(settings: Settings) -> list[float]:
    """Event-to-output latencies (s) with events produced live while the scorer runs."""
    topic = settings.kafka.valid_topic
    settings.scoring.group_id, settings.scoring.instance_id = "bench-latency", "bench-latency"
    done = threading.Event()

    def scorer() -> None:
        # No idle exit: the events arrive only after the scorer has joined; it stops
        # after LATENCY_EVENTS records.
        stages.run_score(settings, idle_exit=None, handle_signals=False,
                         records_per_transaction=500, max_records=LATENCY_EVENTS)
        done.set()

    reader = Consumer(kafka.consumer_config(settings.kafka.bootstrap_servers,
                                            "bench-latency-reader"))
    reader.subscribe([settings.kafka.predictions_topic])
    reader.consume(timeout=1.0)
    thread = threading.Thread(target=scorer, daemon=True)
    thread.start()
    time.sleep(3)  # let the scorer join its group and reach the end of the topic
    codec = EventCodec(settings.kafka.schema_registry_url)
    producer = Producer(kafka.producer_config(settings.kafka.bootstrap_servers))
    rng = random.Random(9)  # noqa: S311 - synthetic data
    start = time.monotonic()
    for i in range(LATENCY_EVENTS):
        while time.monotonic() - start < i / RATE:
            time.sleep(0.0005)
        event = make_event(rng, f"user-{i % 50:04d}", int(time.time() * 1000), 9)
        producer.produce(topic, key=event["user_id"], value=codec.encode(topic, event))
        producer.poll(0)
    producer.flush(30)
    import json

    latencies = []
    deadline = time.monotonic() + 120
    while len(latencies) < LATENCY_EVENTS and time.monotonic() < deadline:
        for message in reader.consume(num_messages=1000, timeout=0.5):
            if message.error() is None:
                body = json.loads(message.value())
                latencies.append(time.time() - body["event_time"] / 1000)
    reader.close()
    done.wait(60)
    return latencies


def spark_rows_per_second(settings: Settings, work: Path) -> list[float]:
    from streamml.spark.job import FeatureJob, spark_session

    class Count:
        name = "count"
        rows = 0

        def write(self, query_id: str, batch_id: int, frame: Any) -> None:
            Count.rows += len(frame)

    topic = "bench-spark"
    kafka.ensure_topics(settings.kafka.bootstrap_servers, [kafka.TopicSpec(topic, 2)])
    produce(settings, topic, events(SPARK_ROWS, start_ms=1_750_000_000_000))
    spark = spark_session()
    rates = []
    try:
        for run in range(SPARK_RUNS + 1):
            checkpoint = work / f"spark-{run}"
            job = FeatureJob(settings.kafka.bootstrap_servers, settings.kafka.schema_registry_url,
                             topic, checkpoint, [Count()], max_records_per_batch=SPARK_ROWS // 2)
            start = time.perf_counter()
            query = job.start(spark)
            query.awaitTermination()
            elapsed = time.perf_counter() - start
            if run:  # the first run warms the JVM and the Python workers
                rates.append(SPARK_ROWS / elapsed)
            shutil.rmtree(checkpoint, ignore_errors=True)
    finally:
        spark.stop()
    return rates


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="streamml-bench-"))
    broker = start_kafka_broker(work / "kafka")
    pg = start_postgres()
    registry = RegistryServer(SchemaStore()).start()
    try:
        settings = Settings(
            kafka=KafkaSettings(bootstrap_servers=broker.bootstrap_servers,
                                schema_registry_url=registry.url, valid_topic="bench.valid",
                                predictions_topic="bench.predictions"),
            sinks=SinkSettings(postgres_dsn=pg.dsn),
            scoring=ScoringSettings(model_path=work / "model.joblib"))
        stages.create_topics(settings)
        fitted, card = model.train(synthetic_features())
        model.save(fitted, card, settings.scoring.model_path)
        from streamml.adapters import postgres

        with postgres.connect(pg.dsn) as conn:
            postgres.ensure_table(conn, settings.sinks.features_table)
            frame = synthetic_features()
            postgres.upsert_features(conn, settings.sinks.features_table, [
                (*(r[c] for c in postgres.COLUMNS[:-1]), 0) for r in frame.to_dict("records")])
        produce(settings, settings.kafka.valid_topic, events(EVENTS))
        print("scoring: 1 transaction per record vs per 500 records ...")
        batching = compare_abba(lambda: score_run(settings, SMALL, 1),
                                lambda: score_run(settings, EVENTS, 500), rounds=ROUNDS)
        print("scoring: exactly-once vs at-least-once at 500 ...")
        eos = compare_abba(lambda: score_run(settings, EVENTS, 500, exactly_once=False),
                           lambda: score_run(settings, EVENTS, 500), rounds=ROUNDS)
        # speedup = time(at-least-once)/time(exactly-once) = EOS throughput / ALO throughput
        print("event-to-output latency ...")
        settings.kafka.valid_topic = "bench.live"
        settings.kafka.predictions_topic = "bench.live-predictions"
        stages.create_topics(settings)
        latencies = latency_run(settings)
        print("spark rows/s ...")
        rates = spark_rows_per_second(settings, work)
    finally:
        registry.stop()
        pg.stop()
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)

    per_record = summarize([1 / s for s in batching.a.samples], unit="records/s")
    per_500 = summarize([1 / s for s in batching.b.samples], unit="records/s")
    alo = summarize([1 / s for s in eos.a.samples], unit="records/s")
    eos_rate = summarize([1 / s for s in eos.b.samples], unit="records/s")
    lat = summarize(latencies, unit="s")
    p95 = float(np.quantile(latencies, 0.95)) if latencies else float("nan")
    spark = summarize(rates, unit="rows/s")
    benchmarks = {
        "scoring_txn_per_record": per_record.as_dict(),
        "scoring_txn_per_500": per_500.as_dict(),
        "scoring_batching_speedup": {**batching.speedup.as_dict(), "goal": f">= {BATCH_GOAL}x",
                                     "met": batching.speedup.median >= BATCH_GOAL},
        "scoring_at_least_once_500": alo.as_dict(),
        "scoring_exactly_once_500": eos_rate.as_dict(),
        "eos_vs_alo_ratio": {**eos.speedup.as_dict(), "goal": f">= {EOS_GOAL}",
                             "met": eos.speedup.median >= EOS_GOAL},
        "event_to_output_latency": {"p50": round(lat.median, 4), "p95": round(p95, 4),
                                    "n": len(latencies), "rate_per_s": RATE, "unit": "s"},
        "spark_rows_per_second": spark.as_dict(),
    }
    rows = [
        ["scoring, 1 transaction per record", per_record.format(".3g"), "-", "-"],
        ["scoring, 1 transaction per 500 records", per_500.format(".3g"), "-", "-"],
        ["... speedup (A-B-B-A)", batching.speedup.format(".3g"), f">= {BATCH_GOAL:g}x",
         "yes" if batching.speedup.median >= BATCH_GOAL else "no"],
        ["scoring at 500, at-least-once", alo.format(".3g"), "-", "-"],
        ["scoring at 500, exactly-once", eos_rate.format(".3g"), "-", "-"],
        ["... exactly-once / at-least-once throughput", eos.speedup.format(".3g"),
         f">= {EOS_GOAL}", "yes" if eos.speedup.median >= EOS_GOAL else "no"],
        [f"event-to-output latency at {RATE} events/s (p50 / p95, n={len(latencies)})",
         f"{lat.median:.3f} s / {p95:.3f} s", "-", "-"],
        [f"Spark feature query, {SPARK_ROWS:,} rows", spark.format(".3g"), "-", "-"],
    ]
    write_results(OUT, results_document("105-03", benchmarks, notes=(
        "2-core machine shared with other builds; broker noida-db, loopback only")))
    update_readme(README, markdown_table(["benchmark", "result", "goal", "met"], rows))
    print(markdown_table(["benchmark", "result", "goal", "met"], rows))


if __name__ == "__main__":
    main()
