"""The exactly-once micro-batch sink: a replayed batch id is skipped, a torn one rewritten."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from streamml import stages
from streamml.config import Settings
from streamml.eos_sink import ExactlyOnceKafkaSink, read_markers
from tests.helpers import read_topic

pytestmark = pytest.mark.integration


def _records(batch: int, n: int) -> list[tuple[str, bytes]]:
    return [(f"user-{i}", json.dumps({"batch": batch, "i": i}).encode()) for i in range(n)]


@pytest.mark.points(6)
def test_replayed_batch_is_skipped_and_a_torn_batch_is_invisible_then_rewritten(
        make_settings: Callable[..., Settings]) -> None:
    s = make_settings("eossink")
    stages.create_topics(s)
    k = s.kafka
    sink = ExactlyOnceKafkaSink(k.bootstrap_servers, k.features_topic, k.markers_topic, "t1")
    assert sink.write("query-a", 0, _records(0, 5)) is True
    assert sink.write("query-a", 1, _records(1, 7)) is True
    sink.close()

    # A restarted driver (new sink object, same sink id) replays batch 1: skipped.
    restarted = ExactlyOnceKafkaSink(k.bootstrap_servers, k.features_topic, k.markers_topic,
                                     "t1")
    assert restarted.write("query-a", 1, _records(1, 7)) is False

    # A write that dies mid-batch leaves an aborted transaction: nothing of it is visible.
    def exploding() -> list[tuple[str, bytes]]:
        yield from _records(2, 3)
        raise RuntimeError("driver died mid-batch")

    with pytest.raises(RuntimeError):
        restarted.write("query-a", 2, exploding())
    assert restarted.write("query-a", 2, _records(2, 4)) is True
    restarted.close()

    rows = [json.loads(m.value()) for m in read_topic(k.bootstrap_servers, k.features_topic)]
    assert sorted((r["batch"], r["i"]) for r in rows) == sorted(
        [(0, i) for i in range(5)] + [(1, i) for i in range(7)] + [(2, i) for i in range(4)])
    markers = read_markers(k.bootstrap_servers, k.markers_topic)
    assert markers["query-a"].batch_id == 2 and markers["query-a"].records == 4


@pytest.mark.points(2)
@pytest.mark.hidden
def test_markers_are_per_query_and_a_zombie_driver_is_fenced(
        make_settings: Callable[..., Settings]) -> None:
    from confluent_kafka import KafkaException

    s = make_settings("eosfence")
    stages.create_topics(s)
    k = s.kafka
    old = ExactlyOnceKafkaSink(k.bootstrap_servers, k.features_topic, k.markers_topic, "f")
    assert old.write("q1", 0, _records(0, 2))
    new = ExactlyOnceKafkaSink(k.bootstrap_servers, k.features_topic, k.markers_topic, "f")
    assert new.write("q2", 0, _records(0, 3)) is True  # other query: its own batch ids
    with pytest.raises(KafkaException):
        old.write("q1", 1, _records(1, 2))  # fenced by `new`'s init_transactions
    assert {q: m.batch_id for q, m in read_markers(k.bootstrap_servers,
                                                    k.markers_topic).items()} == {"q1": 0,
                                                                                  "q2": 0}
