"""Consume-transform-produce with Kafka transactions: each output exactly once.

The loop the quality stage and the scorer share. A batch of input records is transformed and
its outputs are produced inside one transaction together with the input offsets
(`send_offsets_to_transaction`), so outputs and progress commit atomically: after a crash the
open transaction is aborted (read_committed readers never see it) and the batch is consumed
again from the last committed offsets. `transactional.id` is fixed per instance: a restarted
instance's `init_transactions` fences the old one (a zombie's commit then fails), so two
copies of one instance can never both commit.

Also here: SIGTERM handling (finish or abort the current transaction, close the consumer),
retries with backoff while the broker is away, an at-least-once mode for comparison, and a
fault-injection pause used by the crash drills (`--fault-pause-after`).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Protocol

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from streamml import metrics
from streamml.adapters.kafka import consumer_config, producer_config, retry
from streamml.errors import FencedError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Output:
    topic: str
    key: str | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class Transform(Protocol):
    """Turns a batch of input messages into outputs; `aborted` undoes side state."""

    def __call__(self, messages: Sequence[Message]) -> list[Output]: ...

    def aborted(self, messages: Sequence[Message]) -> None: ...


@dataclass
class RunStats:
    records_in: int = 0
    records_out: int = 0
    transactions: int = 0
    aborted: int = 0
    stopped_by: str = ""
    first_input_at: float | None = None  # monotonic: when the first batch arrived
    last_commit_at: float | None = None  # monotonic: when the last batch committed

    @property
    def busy_seconds(self) -> float:
        """Processing time, group join and idle wait excluded (throughput benchmarks)."""
        if self.first_input_at is None or self.last_commit_at is None:
            return 0.0
        return self.last_commit_at - self.first_input_at


@dataclass
class ProcessorOptions:
    bootstrap: str
    group_id: str
    instance_id: str
    topics: list[str]
    stage: str
    records_per_transaction: int = 500
    exactly_once: bool = True
    idle_exit_seconds: float | None = None  # stop after this long without input
    max_records: int | None = None  # stop after this many inputs (benchmarks)
    broker_timeout: float = 30.0
    fault_pause_after: int | None = None  # crash drills: hang mid-transaction after N inputs
    poll_seconds: float = 0.2


def next_offsets(messages: Sequence[Message]) -> list[TopicPartition]:
    """Per partition, the offset after the last message of the batch (what to commit)."""
    # BEGIN SOLUTION
    last: dict[tuple[str, int], int] = {}
    for message in messages:
        key = (str(message.topic()), int(message.partition() or 0))
        last[key] = max(last.get(key, -1), int(message.offset() or 0))
    return [TopicPartition(t, p, o + 1) for (t, p), o in sorted(last.items())]
    # END SOLUTION


class TransactionalProcessor:
    """One instance of a consume-transform-produce stage."""

    def __init__(self, options: ProcessorOptions, transform: Transform) -> None:
        self.options = options
        self.transform = transform
        self.stats = RunStats()
        self.stop_event = threading.Event()
        self.consumer: Consumer | None = None
        self.producer: Producer | None = None

    # -- lifecycle -------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        """SIGTERM / SIGINT: finish the current batch, then leave (main thread only)."""
        def handler(signum: int, _frame: FrameType | None) -> None:
            self.stats.stopped_by = signal.Signals(signum).name
            self.stop_event.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _open(self) -> None:
        o = self.options
        txn_id = f"streamml-{o.stage}-{o.instance_id}" if o.exactly_once else None
        self.producer = Producer(producer_config(o.bootstrap, txn_id))
        if o.exactly_once:
            producer = self.producer
            # Fences any older instance with this transactional.id and aborts its open txn.
            retry(lambda: producer.init_transactions(10), "init_transactions",
                  o.broker_timeout)
        self.consumer = Consumer(consumer_config(o.bootstrap, o.group_id, o.instance_id))
        self.consumer.subscribe(o.topics)

    def close(self) -> None:
        """Close both clients; a fenced (fatal) producer raises on flush: log, not mask."""
        if self.consumer is not None:
            try:
                self.consumer.close()  # a static member keeps its slot for its successor
            except KafkaException as exc:
                log.warning("consumer close: %s", exc)
            self.consumer = None
        if self.producer is not None:
            try:
                self.producer.flush(10)
            except KafkaException as exc:
                log.warning("producer flush on close: %s", exc)
            self.producer = None

    # -- the loop --------------------------------------------------------------------
    def run(self) -> RunStats:
        o = self.options
        self._open()
        assert self.consumer is not None
        last_input = time.monotonic()
        try:
            while not self.stop_event.is_set():
                want = o.records_per_transaction
                if o.max_records is not None:
                    want = min(want, o.max_records - self.stats.records_in)
                    if want <= 0:
                        self.stats.stopped_by = "max-records"
                        break
                batch = self._collect(want)
                if not batch:
                    if (o.idle_exit_seconds is not None
                            and time.monotonic() - last_input >= o.idle_exit_seconds):
                        self.stats.stopped_by = "idle"
                        break
                    continue
                last_input = time.monotonic()
                if self.stats.first_input_at is None:
                    self.stats.first_input_at = last_input
                self._process(batch)
                self.stats.last_commit_at = time.monotonic()
        finally:
            self.close()
        return self.stats

    def _collect(self, want: int) -> list[Message]:
        """Up to `want` records, waiting at most one poll interval once some arrived."""
        assert self.consumer is not None
        batch: list[Message] = []
        deadline = time.monotonic() + self.options.poll_seconds
        while len(batch) < want and not self.stop_event.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for message in self.consumer.consume(num_messages=want - len(batch),
                                                 timeout=remaining):
                error = message.error()
                if error is None:
                    batch.append(message)
                elif error.code() != KafkaError._PARTITION_EOF:
                    if error.fatal():
                        raise KafkaException(error)
                    log.warning("consumer error: %s", error.str())
        return batch

    def _process(self, batch: list[Message]) -> None:
        if self.options.exactly_once:
            self._process_transaction(batch)
        else:
            self._process_at_least_once(batch)

    def _produce_all(self, outputs: list[Output]) -> None:
        assert self.producer is not None
        for out in outputs:
            while True:
                try:
                    self.producer.produce(out.topic, key=out.key, value=out.value,
                                          headers=list(out.headers) or None)
                    break
                except BufferError:
                    self.producer.poll(0.05)
            self.producer.poll(0)
        for out in outputs:
            metrics.RECORDS_OUT.labels(self.options.stage, out.topic).inc()

    def _process_transaction(self, batch: list[Message]) -> None:
        """One transaction: outputs + offsets, committed together or not at all."""
        # BEGIN SOLUTION
        assert self.producer is not None and self.consumer is not None
        producer, consumer, o = self.producer, self.consumer, self.options
        producer.begin_transaction()
        try:
            outputs = self.transform(batch)
            self._produce_all(outputs)
            self._maybe_pause(len(batch))
            producer.send_offsets_to_transaction(next_offsets(batch),
                                                 consumer.consumer_group_metadata(), 30)
            self._commit(producer)
        except KafkaException as exc:
            error = exc.args[0]
            if error.fatal() or error.code() == KafkaError._FENCED:
                raise FencedError(f"{o.stage} instance {o.instance_id} was fenced by a newer "
                             "instance with the same transactional.id; stopping") from exc
            log.warning("transaction aborted: %s", error.str())
            producer.abort_transaction(30)
            self.transform.aborted(batch)
            self._rewind()
            metrics.TRANSACTIONS.labels(o.stage, "aborted").inc()
            self.stats.aborted += 1
            return
        except BaseException:
            # Interrupted mid-transaction (a bug, Ctrl-C): abort, outputs never visible.
            producer.abort_transaction(30)
            self.transform.aborted(batch)
            raise
        metrics.RECORDS_IN.labels(o.stage).inc(len(batch))
        metrics.TRANSACTIONS.labels(o.stage, "committed").inc()
        self.stats.records_in += len(batch)
        self.stats.records_out += len(outputs)
        self.stats.transactions += 1
        # END SOLUTION

    def _commit(self, producer: Producer) -> None:
        """commit_transaction, retried with backoff while the error is retriable."""
        deadline = time.monotonic() + self.options.broker_timeout
        delay = 0.2
        while True:
            try:
                producer.commit_transaction(30)
                return
            except KafkaException as exc:
                error = exc.args[0]
                if not error.retriable() or time.monotonic() + delay > deadline:
                    raise
                log.info("commit_transaction retriable error (%s); retrying", error.str())
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _process_at_least_once(self, batch: list[Message]) -> None:
        """Produce, flush, then commit offsets: a crash in between duplicates outputs."""
        assert self.producer is not None and self.consumer is not None
        outputs = self.transform(batch)
        self._produce_all(outputs)
        self.producer.flush(30)
        self.consumer.commit(offsets=next_offsets(batch), asynchronous=False)
        metrics.RECORDS_IN.labels(self.options.stage).inc(len(batch))
        self.stats.records_in += len(batch)
        self.stats.records_out += len(outputs)

    def _rewind(self) -> None:
        """After an abort: seek back to the committed offsets so the batch is redone."""
        assert self.consumer is not None
        assignment = self.consumer.assignment()
        if not assignment:
            return
        for tp in self.consumer.committed(assignment, timeout=10):
            if tp.offset >= 0:
                self.consumer.seek(tp)

    def _maybe_pause(self, batch_size: int) -> None:
        """Crash drills: after N inputs, hang inside the open transaction until killed."""
        limit = self.options.fault_pause_after
        if limit is None or self.stats.records_in + batch_size < limit:
            return
        assert self.producer is not None
        self.producer.flush(10)  # the outputs are on the broker, uncommitted
        sys.stderr.write(f"PAUSED mid-transaction after {self.stats.records_in + batch_size}"
                         " records (fault injection)\n")
        sys.stderr.flush()
        while True:
            time.sleep(3600)


def run_stage(options: ProcessorOptions, transform: Transform,
              handle_signals: bool = True) -> RunStats:
    """Build, run and close one processor (what the CLI commands call)."""
    processor = TransactionalProcessor(options, transform)
    if handle_signals and threading.current_thread() is threading.main_thread():
        processor.install_signal_handlers()
    return processor.run()

