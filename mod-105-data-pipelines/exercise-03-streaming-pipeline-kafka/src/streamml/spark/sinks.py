"""foreachBatch sinks: Parquet on S3 (training), PostgreSQL upserts (serving), a topic (EOS).

Each sink is idempotent per batch id, which is what makes a replayed micro-batch harmless:
Parquet files are named after the batch id (a replay overwrites them), PostgreSQL rows are
upserted on (user, window end), and the Kafka sink skips batch ids it already committed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from streamml import metrics
from streamml.adapters import postgres
from streamml.eos_sink import ExactlyOnceKafkaSink

log = logging.getLogger(__name__)


class BatchSink(Protocol):
    name: str

    def write(self, query_id: str, batch_id: int, frame: pd.DataFrame) -> None: ...


class InjectedCrashError(RuntimeError):
    """Raised by the crash drill after the sinks wrote and before Spark commits the batch."""


@dataclass
class ParquetSink:
    """Hive-partitioned Parquet (`date=YYYY-MM-DD/`) under `bucket/prefix` on S3."""

    filesystem: Any
    base_dir: str
    name: str = "parquet"

    def write(self, query_id: str, batch_id: int, frame: pd.DataFrame) -> None:
        # BEGIN SOLUTION
        if frame.empty:
            return
        frame = frame.assign(date=frame["window_start"].dt.strftime("%Y-%m-%d"))
        table = pa.Table.from_pandas(frame.sort_values(["user_id", "window_end"]),
                                     preserve_index=False)
        ds.write_dataset(
            table, self.base_dir, filesystem=self.filesystem, format="parquet",
            partitioning=ds.partitioning(pa.schema([("date", pa.string())]), flavor="hive"),
            basename_template=f"batch-{batch_id:08d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore")
        metrics.SINK_BATCHES.labels(self.name, "written").inc()
        # END SOLUTION


@dataclass
class PostgresSink:
    dsn: str
    table: str
    name: str = "postgres"

    def write(self, query_id: str, batch_id: int, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        rows = [(*(r[c] for c in postgres.COLUMNS[:-1]), batch_id)
                for r in frame.to_dict("records")]
        with postgres.connect(self.dsn) as conn:
            postgres.upsert_features(conn, self.table, rows)
        metrics.SINK_BATCHES.labels(self.name, "written").inc()


@dataclass
class KafkaFeatureSink:
    """Feature rows as JSON, keyed by user, through the exactly-once sink."""

    sink: ExactlyOnceKafkaSink
    name: str = "kafka"

    def write(self, query_id: str, batch_id: int, frame: pd.DataFrame) -> None:
        records = []
        for row in frame.to_dict("records"):
            body = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
            records.append((str(row["user_id"]), json.dumps(body).encode()))
        self.sink.write(query_id, batch_id, records)


def utc(frame: pd.DataFrame) -> pd.DataFrame:
    """Spark hands timestamps over naive (in the session time zone, UTC here): make them aware,
    so PostgreSQL's timestamptz and Parquet store the instant, not a wall-clock reading."""
    for column in ("window_start", "window_end", "last_event_time"):
        if column in frame and frame[column].dt.tz is None:
            frame[column] = frame[column].dt.tz_localize("UTC")
    return frame


def checkpoint_query_id(checkpoint_dir: Path) -> str:
    """The query id Spark keeps in `<checkpoint>/metadata` (stable across restarts)."""
    text = (Path(checkpoint_dir) / "metadata").read_text().splitlines()[0]
    return str(json.loads(text)["id"])


def foreach_batch(sinks: list[BatchSink], checkpoint_dir: Path,
                  crash_after_batch: int | None = None) -> Callable[[Any, int], None]:
    """The function given to `writeStream.foreachBatch`: every sink, in order, per batch.

    `crash_after_batch` is the replay drill: after the sinks wrote batch N it raises, so the
    query stops with the batch in its offset log but not in its commit log, exactly as if
    the driver had been killed there; the restarted query runs batch N again.
    """
    def run(batch: Any, batch_id: int) -> None:
        frame = utc(batch.toPandas())
        query_id = checkpoint_query_id(checkpoint_dir)
        for sink in sinks:
            sink.write(query_id, batch_id, frame)
        if crash_after_batch is not None and batch_id == crash_after_batch:
            raise InjectedCrashError(
                f"crash drill: stopping after the sinks wrote batch {batch_id}")

    return run
