"""Small test helpers: read a topic to its end, produce valid events, make feature frames."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from streamml.adapters.kafka import producer_config
from streamml.adapters.serde import EventCodec
from streamml.events import make_event


def read_topic(bootstrap: str, topic: str, committed: bool = True,
               timeout: float = 20.0) -> list[Any]:
    """Every record of `topic` (read_committed unless told), read to the end of each partition."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.time()}",
                         "isolation.level": "read_committed" if committed else
                         "read_uncommitted", "enable.auto.commit": False,
                         "enable.partition.eof": True, "log_level": 0})
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        pending, records = set(partitions), []
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=1000, timeout=0.5):
                if message.error() is None:
                    records.append(message)
                elif message.error().code() == KafkaError._PARTITION_EOF:
                    pending.discard(message.partition())
        assert not pending, f"could not read {topic} to its end"
        return records
    finally:
        consumer.close()


def headers_of(message: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in (message.headers() or [])}


def produce_valid(bootstrap: str, registry_url: str, topic: str, events: list[dict[str, Any]],
                  partition: int | None = None) -> None:
    """Avro-encode and send `events` (keyed by user), as the quality stage would forward them."""
    codec = EventCodec(registry_url)
    producer = Producer(producer_config(bootstrap))
    for event in events:
        kwargs = {"partition": partition} if partition is not None else {}
        producer.produce(topic, key=event["user_id"], value=codec.encode(topic, event),
                         **kwargs)
    assert producer.flush(10) == 0


def sample_events(n: int, users: int = 10, start_ms: int = 1_750_000_000_000,
                  spacing_ms: int = 1000, seed: int = 3) -> list[dict[str, Any]]:
    import random

    rng = random.Random(seed)
    return [make_event(rng, f"user-{i % users:04d}", start_ms + i * spacing_ms, seed)
            for i in range(n)]


def feature_frame(users: int = 12, windows: int = 8, seed: int = 1) -> pd.DataFrame:
    """Per-user window features where purchases cluster by user (a learnable signal)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2025-06-15T00:00:00Z")
    for u in range(users):
        rate = 0.05 + 0.9 * (u / max(users - 1, 1))
        for w in range(windows):
            n = int(rng.integers(5, 15))
            purchases = int(rng.binomial(n, rate * 0.3))
            clicks = int(rng.binomial(n - purchases, 0.3))
            rows.append({"user_id": f"user-{u:04d}",
                         "window_start": start + pd.Timedelta(minutes=w),
                         "window_end": start + pd.Timedelta(minutes=w + 1),
                         "n_events": n, "n_views": n - purchases - clicks, "n_clicks": clicks,
                         "n_purchases": purchases, "total_amount": purchases * 50.0,
                         "avg_amount": purchases * 50.0 / n,
                         "last_event_time": start + pd.Timedelta(minutes=w, seconds=50)})
    return pd.DataFrame(rows)
