"""The streaming feature job: Kafka (valid events) -> windowed features -> sinks.

`spark_session()` builds the local session (Python workers on this venv's interpreter: Spark
starts them with PYSPARK_PYTHON, which must be the venv's python or they cannot import
streamml), `start_features_query()` wires source, features and foreachBatch sinks with a
checkpoint, so a restarted query resumes where the last committed batch ended.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql.streaming.listener import StreamingQueryListener
from pyspark.sql.streaming.query import StreamingQuery

from streamml import metrics
from streamml.spark.datasource import KafkaDataSource
from streamml.spark.features import user_features
from streamml.spark.sinks import BatchSink, foreach_batch

log = logging.getLogger(__name__)
QUERY_NAME = "streamml-features"


def spark_session(shuffle_partitions: int = 2, app_name: str = "streamml") -> SparkSession:
    """A local[2] session with the Kafka data source registered."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[2]").appName(app_name)
             .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "1g")
             .config("spark.sql.streaming.stateStore.stateSchemaCheck", "true")
             .config("spark.python.worker.reuse", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.dataSource.register(KafkaDataSource)
    return spark


@dataclass
class ProgressListener(StreamingQueryListener):
    """Query progress into Prometheus metrics (and kept for the caller to inspect)."""

    progress: list[dict[str, Any]] = field(default_factory=list)

    def onQueryStarted(self, event: Any) -> None:  # noqa: N802 - Spark's API names
        log.info("query %s started (run %s)", event.id, event.runId)

    def onQueryProgress(self, event: Any) -> None:  # noqa: N802
        p = event.progress
        name = p.name or QUERY_NAME
        late = sum(int(op.numRowsDroppedByWatermark) for op in p.stateOperators)
        rows = int(p.numInputRows)
        self.progress.append({"batch_id": int(p.batchId), "input_rows": rows,
                              "durations": dict(p.durationMs),
                              "late_rows": late,
                              "rows_per_second": float(p.processedRowsPerSecond or 0.0),
                              "duration_ms": int(p.batchDuration or 0),
                              "watermark": p.eventTime.get("watermark")})
        metrics.SPARK_INPUT_ROWS.labels(name).inc(rows)
        metrics.SPARK_LATE_ROWS.labels(name).inc(late)
        metrics.SPARK_ROWS_PER_SECOND.labels(name).set(float(p.processedRowsPerSecond or 0.0))
        metrics.SPARK_BATCH_SECONDS.labels(name).set(int(p.batchDuration or 0) / 1000.0)
        metrics.SPARK_BATCH_ID.labels(name).set(int(p.batchId))

    def onQueryIdle(self, event: Any) -> None:  # noqa: N802
        """Nothing to record while idle."""

    def onQueryTerminated(self, event: Any) -> None:  # noqa: N802
        if event.exception:
            log.warning("query %s terminated: %s", event.id, event.exception.splitlines()[0])


@dataclass
class FeatureJob:
    """What the feature query needs; `start()` returns the running query."""

    bootstrap: str
    registry_url: str
    topic: str
    checkpoint_dir: Path
    sinks: list[BatchSink]
    window_seconds: int = 60
    slide_seconds: int | None = None
    watermark_seconds: int = 30
    max_records_per_batch: int | None = 1000
    available_now: bool = True
    processing_time: str = "5 seconds"
    crash_after_batch: int | None = None

    def start(self, spark: SparkSession) -> StreamingQuery:
        reader = (spark.readStream.format("streamml-kafka")
                  .option("bootstrap.servers", self.bootstrap)
                  .option("topic", self.topic)
                  .option("schema.registry.url", self.registry_url))
        if self.max_records_per_batch:
            reader = reader.option("maxRecordsPerBatch", str(self.max_records_per_batch))
        events = reader.load()
        features = user_features(events, self.window_seconds, self.slide_seconds,
                                 self.watermark_seconds)
        writer = (features.writeStream.queryName(QUERY_NAME).outputMode("append")
                  .option("checkpointLocation", str(self.checkpoint_dir))
                  .foreachBatch(foreach_batch(self.sinks, self.checkpoint_dir,
                                              self.crash_after_batch)))
        writer = (writer.trigger(availableNow=True) if self.available_now
                  else writer.trigger(processingTime=self.processing_time))
        return writer.start()
