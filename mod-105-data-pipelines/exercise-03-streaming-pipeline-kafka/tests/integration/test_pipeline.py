"""End to end: validate -> Spark (crash drill and replay) -> S3 / PostgreSQL / topic -> score."""

from __future__ import annotations

import json
from collections import Counter

import pyarrow.dataset as ds
import pytest

from streamml.adapters import postgres as pg
from streamml.adapters import s3
from streamml.eos_sink import read_markers
from tests.helpers import read_topic
from tests.integration.conftest import PipelineRun

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _data_batches(progress: list[dict[str, object]]) -> dict[int, int]:
    return {int(p["batch_id"]): int(p["input_rows"]) for p in progress  # type: ignore[call-overload]
            if int(p["input_rows"]) > 0}  # type: ignore[call-overload]


@pytest.mark.points(10)
def test_replayed_spark_batch_changes_no_sink(pipeline_run: PipelineRun) -> None:
    run, s = pipeline_run, pipeline_run.settings
    assert "crash drill: stopping after the sinks wrote batch 1" in run.crash_error
    # Batch 0 completed; batch 1 failed after its sinks wrote, so it has no progress event.
    assert list(_data_batches(run.first_run)) == [0]
    # The restarted query runs batch 1 again (same id, same offsets from the offset log).
    assert min(_data_batches(run.second_run)) == 1
    with pg.connect(s.sinks.postgres_dsn) as conn:
        rows = pg.all_rows(conn, s.sinks.features_table)
    keys = [(r[0], r[2]) for r in rows]
    assert len(keys) == len(set(keys)) and rows
    # Rows batch 1 wrote before the crash are unchanged by its replay.
    after = {(r[0], r[2]): r for r in rows}
    assert run.rows_after_crash and all(after[(r[0], r[2])] == r for r in run.rows_after_crash)
    # Parquet: a replay overwrote its own files; every (user, window) exactly once.
    frame = ds.dataset(f"{s.sinks.s3_bucket}/{s.sinks.s3_prefix}", format="parquet",
                       partitioning="hive", filesystem=s3.filesystem(
                           s.sinks.s3_endpoint_url, s.sinks.aws_region)).to_table().to_pandas()
    parquet_keys = Counter(zip(frame["user_id"], frame["window_end"], strict=True))
    assert set(parquet_keys.values()) == {1} and len(parquet_keys) == len(rows)
    # The features topic: exactly one committed record per window, replay skipped.
    feature_rows = [json.loads(m.value()) for m in read_topic(s.kafka.bootstrap_servers,
                                                             s.kafka.features_topic)]
    topic_keys = Counter((r["user_id"], r["window_end"]) for r in feature_rows)
    assert set(topic_keys.values()) == {1} and len(topic_keys) == len(rows)
    assert 0 < run.topic_after_crash < len(feature_rows)
    markers = read_markers(s.kafka.bootstrap_servers, s.kafka.markers_topic)
    assert [m.batch_id for m in markers.values()] == [max(
        p["batch_id"] for p in run.second_run)]  # type: ignore[type-var]


@pytest.mark.points(5)
def test_backpressure_max_records_per_batch_300_over_1000_rows_gives_4_batches(
        pipeline_run: PipelineRun) -> None:
    run = pipeline_run
    batches = _data_batches(run.first_run) | _data_batches(run.second_run)
    assert sorted(batches) == [0, 1, 2, 3]
    assert all(rows <= 300 for rows in batches.values())
    # 1000 events + 5 late ones passed the quality rules; the 5 late ones are dropped by
    # the watermark only if they arrive after it moved, so all 1005 were read.
    assert sum(batches.values()) == 1005 == run.validated.counts["passed"]


@pytest.mark.points(4)
def test_train_on_parquet_and_score_every_event_exactly_once(pipeline_run: PipelineRun
                                                             ) -> None:
    run, s = pipeline_run, pipeline_run.settings
    assert run.card.rows > 50 and run.card.positives > 0
    predictions = [json.loads(m.value()) for m in read_topic(s.kafka.bootstrap_servers,
                                                            s.kafka.predictions_topic)]
    ids = Counter(p["event_id"] for p in predictions)
    assert len(ids) == 1005 and set(ids.values()) == {1}
    assert all(0.0 <= p["score"] <= 1.0 and p["model_version"] == run.card.version
               for p in predictions)
    # Most events find their user's features in PostgreSQL (users' first windows do not).
    assert sum(not p["features_missing"] for p in predictions) > 500
    assert run.scored.transactions >= 1005 // s.scoring.transaction_records
