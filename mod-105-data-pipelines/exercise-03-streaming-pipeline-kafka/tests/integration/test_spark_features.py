"""The Kafka data source and the windowed features on the session's one SparkSession."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Producer

from streamml import stages
from streamml.adapters.kafka import producer_config
from streamml.adapters.serde import EventCodec
from streamml.config import Settings
from streamml.spark.features import user_features
from streamml.spark.job import FeatureJob, ProgressListener
from tests.helpers import produce_valid

pytestmark = [pytest.mark.integration, pytest.mark.slow]
T0 = 1_749_999_960_000  # a whole minute (2025-06-15T15:06:00Z): windows start here


def ev(n: int, user: str, second: int, action: str = "view", amount: float = 0.0
       ) -> dict[str, Any]:
    return {"event_id": f"e{n}", "user_id": user, "event_time": T0 + second * 1000,
            "action": action, "amount": amount}


class _Collect:
    """A foreachBatch sink that keeps every emitted row."""

    name = "collect"

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def write(self, query_id: str, batch_id: int, frame: Any) -> None:
        self.rows += frame.to_dict("records")


@pytest.mark.points(10)
def test_known_answer_tumbling_windows_with_late_rows_dropped_and_counted(
        spark: Any, make_settings: Callable[..., Settings]) -> None:
    s = make_settings("windows")
    stages.create_topics(s)
    # Four batches of four rows (maxRecordsPerBatch=4, one partition, no transactions).
    batches = [
        [ev(1, "a", 0), ev(2, "a", 10, "purchase", 5.0), ev(3, "a", 20, "click"),
         ev(4, "b", 30)],
        [ev(5, "a", 65), ev(6, "b", 70, "purchase", 12.5), ev(7, "a", 100),
         ev(8, "b", 130, "click")],
        [ev(9, "c", 140), ev(10, "c", 150), ev(11, "a", 170), ev(12, "b", 200)],
        # a@5 and b@15 arrive after the watermark passed their window: dropped, counted.
        [ev(13, "a", 5), ev(14, "b", 15, "purchase", 99.0), ev(15, "c", 175),
         ev(16, "a", 260)],
    ]
    produce_valid(s.kafka.bootstrap_servers, s.kafka.schema_registry_url, s.kafka.valid_topic,
                  [e for b in batches for e in b], partition=0)
    sink = _Collect()
    listener = ProgressListener()
    spark.streams.addListener(listener)
    try:
        query = FeatureJob(s.kafka.bootstrap_servers, s.kafka.schema_registry_url,
                           s.kafka.valid_topic, s.spark.checkpoint_dir, [sink],
                           window_seconds=60, watermark_seconds=30,
                           max_records_per_batch=4).start(spark)
        query.awaitTermination(120)
        assert query.exception() is None
    finally:
        spark.streams.removeListener(listener)
    got = {(r["user_id"], int((r["window_start"].timestamp() * 1000 - T0) / 1000)):
           (r["n_events"], r["n_views"], r["n_clicks"], r["n_purchases"], r["total_amount"])
           for r in sink.rows}
    assert got == {
        ("a", 0): (3, 1, 1, 1, 5.0), ("b", 0): (1, 1, 0, 0, 0.0),
        ("a", 60): (2, 2, 0, 0, 0.0), ("b", 60): (1, 0, 0, 1, 12.5),
        ("a", 120): (1, 1, 0, 0, 0.0), ("b", 120): (1, 0, 1, 0, 0.0),
        ("c", 120): (3, 3, 0, 0, 0.0),
    }
    assert all((r["window_end"] - r["window_start"]).total_seconds() == 60 for r in sink.rows)
    data_batches = [p for p in listener.progress if p["input_rows"] > 0]
    assert [p["input_rows"] for p in data_batches] == [4, 4, 4, 4]
    assert sum(p["late_rows"] for p in listener.progress) == 2


@pytest.mark.points(3)
def test_sliding_windows_in_batch_mode(spark: Any, make_settings: Callable[..., Settings]
                                       ) -> None:
    s = make_settings("sliding")
    stages.create_topics(s)
    produce_valid(s.kafka.bootstrap_servers, s.kafka.schema_registry_url, s.kafka.valid_topic,
                  [ev(1, "a", 0), ev(2, "a", 40, "click"), ev(3, "a", 70)])
    events = (spark.read.format("streamml-kafka")
              .option("bootstrap.servers", s.kafka.bootstrap_servers)
              .option("topic", s.kafka.valid_topic)
              .option("schema.registry.url", s.kafka.schema_registry_url).load())
    rows = user_features(events, 60, 30, 30).collect()
    got = {int((r["window_start"].timestamp() * 1000 - T0) / 1000): (r["n_events"],
                                                                      r["n_clicks"])
           for r in rows}
    assert got == {-30: (1, 0), 0: (2, 1), 30: (2, 1), 60: (1, 0)}


@pytest.mark.points(4)
@pytest.mark.hidden
def test_batch_read_sees_only_committed_transactions_and_is_not_blocked_by_an_open_one(
        spark: Any, make_settings: Callable[..., Settings]) -> None:
    s = make_settings("committed")
    stages.create_topics(s)
    topic = s.kafka.valid_topic
    codec = EventCodec(s.kafka.schema_registry_url)
    producer = Producer(producer_config(s.kafka.bootstrap_servers, "test-committed-reader"))
    producer.init_transactions(10)
    for outcome, ids in (("commit", range(0, 5)), ("abort", range(5, 9)),
                         ("commit", range(9, 12)), ("open", range(12, 15))):
        producer.begin_transaction()
        for i in ids:
            producer.produce(topic, key="u", value=codec.encode(topic, ev(i, "u", i)),
                             partition=1)
        producer.flush(10)
        if outcome == "commit":
            producer.commit_transaction(10)
        elif outcome == "abort":
            producer.abort_transaction(10)
    try:
        frame = (spark.read.format("streamml-kafka")
                 .option("bootstrap.servers", s.kafka.bootstrap_servers).option("topic", topic)
                 .option("schema.registry.url", s.kafka.schema_registry_url).load())
        ids = sorted(int(r["event_id"][1:]) for r in frame.select("event_id").collect())
    finally:
        producer.abort_transaction(10)
    assert ids == [0, 1, 2, 3, 4, 9, 10, 11]
