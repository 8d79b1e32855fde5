"""A Spark Python data source that reads Kafka through confluent-kafka.

The Spark Kafka connector (spark-sql-kafka jar) cannot be downloaded here, so this source
does its job in Python (`pyspark.sql.datasource`, Spark >= 4.2): batch and streaming
readers, offsets per partition (checkpointed by Spark), `read_committed` (open and aborted
transactions are invisible), backpressure through `getDefaultReadLimit()` returning
`ReadMaxRows` (option `maxRecordsPerBatch`) and `Trigger.AvailableNow` through
`SupportsTriggerAvailableNow`. Values are decoded from Confluent-framed Avro with the writer
schema from the registry, so rows come out typed.

    spark.dataSource.register(KafkaDataSource)
    spark.readStream.format("streamml-kafka").option("bootstrap.servers", ...)
         .option("topic", "events.valid").option("schema.registry.url", ...)
         .option("maxRecordsPerBatch", 300).load()
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pyspark.sql.datasource import (
    DataSource,
    DataSourceReader,
    DataSourceStreamReader,
    InputPartition,
)
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    ReadMaxRows,
    SupportsTriggerAvailableNow,
)
from pyspark.sql.types import StructType

from streamml.spark.offsets import Offsets, clamp, limit_offsets, ranges, to_offsets

SCHEMA = ("event_id string, user_id string, event_time timestamp, action string, "
          "amount double, partition int, offset long")


class KafkaRange(InputPartition):
    """One Spark task: offsets [start, end) of one partition."""

    def __init__(self, partition: int, start: int, end: int) -> None:
        super().__init__((partition, start, end))
        self.partition, self.start, self.end = partition, start, end


class _Options:
    """The source's options. Spark passes them case-insensitively (keys lower-cased), so
    look them up lower-case: `maxRecordsPerBatch` arrives as `maxrecordsperbatch`."""

    def __init__(self, given: Mapping[str, str]) -> None:
        options = {k.lower(): v for k, v in given.items()}
        try:
            self.bootstrap = options["bootstrap.servers"]
            self.topic = options["topic"]
        except KeyError as exc:
            raise ValueError(f"streamml-kafka needs the option {exc.args[0]!r}") from exc
        self.registry_url = options.get("schema.registry.url", "")
        raw_limit = options.get("maxrecordsperbatch")
        self.max_records = int(raw_limit) if raw_limit else None
        if self.max_records is not None and self.max_records < 1:
            raise ValueError("maxRecordsPerBatch must be >= 1")
        self.starting = options.get("startingoffsets", "earliest")
        self.read_timeout = float(options.get("readtimeoutseconds", "60"))
        ending = options.get("endingoffsets", "latest")
        self.ending: Offsets | None = None if ending == "latest" else {
            str(k): int(v) for k, v in json.loads(ending).items()}


def _latest(opts: _Options) -> Offsets:
    from streamml.adapters.kafka import end_offsets

    return to_offsets(end_offsets(opts.bootstrap, opts.topic, committed_only=True))


def _earliest(opts: _Options) -> Offsets:
    from streamml.adapters.kafka import start_offsets

    return to_offsets(start_offsets(opts.bootstrap, opts.topic))


def _starting(opts: _Options) -> Offsets:
    if opts.starting == "earliest":
        return _earliest(opts)
    if opts.starting == "latest":
        return _latest(opts)
    return {str(k): int(v) for k, v in json.loads(opts.starting).items()}


def read_range(opts: _Options, part: KafkaRange) -> Iterator[tuple[Any, ...]]:
    """The decoded rows of one offset range (runs in a Python worker on an executor)."""
    # BEGIN SOLUTION
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    from streamml.adapters.kafka import consumer_config
    from streamml.adapters.serde import DecodeError, EventCodec

    codec = EventCodec(opts.registry_url)
    consumer = Consumer(consumer_config(opts.bootstrap, "streamml-spark-reader",
                                        extra={"enable.partition.eof": True}))
    consumer.assign([TopicPartition(opts.topic, part.partition, part.start)])
    deadline = time.monotonic() + opts.read_timeout
    try:
        while time.monotonic() < deadline:
            messages = consumer.consume(num_messages=500, timeout=1.0)
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        # End of what read_committed can see (`end` was planned below it;
                        # commit markers fill the gap after the last record).
                        return
                    raise RuntimeError(f"reading {opts.topic}[{part.partition}]: "
                                       f"{error.str()}")
                offset = int(message.offset() or 0)
                if offset >= part.end:
                    return
                try:
                    event = codec.decode(opts.topic, message.value())
                except DecodeError:
                    continue  # the quality stage forwards only decodable events
                yield (event["event_id"], event["user_id"],
                       dt.datetime.fromtimestamp(int(event["event_time"]) / 1000, dt.UTC),
                       event["action"], float(event["amount"]), part.partition, offset)
                if offset >= part.end - 1:
                    return
        raise TimeoutError(f"reading {opts.topic}[{part.partition}] offsets "
                           f"{part.start}-{part.end} took over {opts.read_timeout:g}s")
    finally:
        consumer.close()
    # END SOLUTION


class KafkaBatchReader(DataSourceReader):
    """`spark.read.format("streamml-kafka")`: everything committed between the offsets."""

    def __init__(self, opts: _Options) -> None:
        self.opts = opts
        self.start = _starting(opts)
        self.end = opts.ending if opts.ending is not None else _latest(opts)

    def partitions(self) -> Sequence[InputPartition]:
        return [KafkaRange(p, s, e) for p, s, e in ranges(self.start, self.end)]

    def read(self, partition: InputPartition) -> Iterator[tuple[Any, ...]]:
        assert isinstance(partition, KafkaRange)
        yield from read_range(self.opts, partition)


class KafkaStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """`spark.readStream.format("streamml-kafka")`: micro-batches of offset ranges."""

    def __init__(self, opts: _Options) -> None:
        self.opts = opts
        self._target: Offsets | None = None

    def initialOffset(self) -> dict[str, int]:  # noqa: N802 - Spark's API names
        return _starting(self.opts)

    def getDefaultReadLimit(self) -> ReadLimit:  # noqa: N802
        # BEGIN SOLUTION
        if self.opts.max_records is None:
            return ReadAllAvailable()
        return ReadMaxRows(self.opts.max_records)
        # END SOLUTION

    def latestOffset(self, start: dict[str, int], limit: ReadLimit) -> dict[str, int]:  # noqa: N802
        # BEGIN SOLUTION
        latest = clamp(_latest(self.opts), self._target)
        max_rows = limit.max_rows if isinstance(limit, ReadMaxRows) else None
        return limit_offsets(start, latest, max_rows)
        # END SOLUTION

    def reportLatestOffset(self) -> dict[str, int] | None:  # noqa: N802
        return _latest(self.opts)

    def prepareForTriggerAvailableNow(self) -> None:  # noqa: N802
        # BEGIN SOLUTION
        self._target = _latest(self.opts)
        # END SOLUTION

    def partitions(self, start: dict[str, int], end: dict[str, int]) -> Sequence[InputPartition]:
        return [KafkaRange(p, s, e) for p, s, e in ranges(start, end)]

    def read(self, partition: InputPartition) -> Iterator[tuple[Any, ...]]:
        assert isinstance(partition, KafkaRange)
        yield from read_range(self.opts, partition)

    def commit(self, end: dict[str, int]) -> None:
        """Nothing to do: progress lives in Spark's checkpoint, not in a consumer group."""


class KafkaDataSource(DataSource):
    """Registered as format `streamml-kafka`."""

    @classmethod
    def name(cls) -> str:
        return "streamml-kafka"

    def schema(self) -> StructType | str:
        return SCHEMA

    def reader(self, schema: StructType) -> DataSourceReader:
        return KafkaBatchReader(_Options(self.options))

    def streamReader(self, schema: StructType) -> DataSourceStreamReader:  # noqa: N802
        return KafkaStreamReader(_Options(self.options))
