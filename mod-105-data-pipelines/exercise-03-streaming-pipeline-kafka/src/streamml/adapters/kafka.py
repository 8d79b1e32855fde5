"""Kafka through confluent-kafka: client configs, reachability with backoff, topics, lag.

Every stage builds its clients here so the settings that make the pipeline correct live in one
place: idempotent producers, `read_committed` consumers without auto-commit, and static group
membership (`group.instance.id`). The broker used here (noida-db) never expires a member whose
process died, so a dynamic member that was killed would block its group's partitions until
the session ends; a static member that restarts with the same instance id gets its partitions
back at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec  # type: ignore[attr-defined]

from streamml.errors import BrokerUnavailableError, TopicNotFoundError

log = logging.getLogger(__name__)
T = TypeVar("T")

# librdkafka logs every refused connection at level 3; the CLI reports one line instead.
_QUIET = {"log_level": 0}


def producer_config(bootstrap: str, transactional_id: str | None = None,
                    **extra: Any) -> dict[str, Any]:
    """Idempotent producer (no duplicates on retry); transactional when an id is given."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "enable.idempotence": True,
                              "acks": "all", "linger.ms": 5, **_QUIET}
    if transactional_id:
        config["transactional.id"] = transactional_id
        config["transaction.timeout.ms"] = 60_000
    config.update(extra)
    return config


def consumer_config(bootstrap: str, group_id: str, instance_id: str | None = None,
                    extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """read_committed, manual commits (offsets go with transactions), static membership."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "group.id": group_id,
                              "isolation.level": "read_committed",
                              "enable.auto.commit": False, "auto.offset.reset": "earliest",
                              "enable.partition.eof": False, **_QUIET}
    if instance_id:
        config["group.instance.id"] = instance_id
    config.update(extra or {})
    return config


def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, **_QUIET})


def retry(action: Callable[[], T], what: str, timeout: float, first_delay: float = 0.2,
          max_delay: float = 2.0, retriable: tuple[type[BaseException], ...] = (KafkaException,)
          ) -> T:
    """Run `action` until it succeeds, with exponential backoff, for at most `timeout` s.

    The broker may be restarting (a rolling upgrade, a crash): waiting a little is better than
    failing the stage, but never for ever: after `timeout` it raises BrokerUnavailableError.
    """
    # BEGIN SOLUTION
    deadline = time.monotonic() + timeout
    delay = first_delay
    while True:
        try:
            return action()
        except retriable as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerUnavailableError(f"{what}: {_describe(exc)}") from exc
            log.info("%s failed (%s); retrying in %.1fs", what, _describe(exc), delay)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, max_delay)
    # END SOLUTION


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return str(exc.args[0].str())
    return str(exc) or type(exc).__name__


def wait_for_broker(bootstrap: str, timeout: float) -> list[str]:
    """The broker's topic names once it answers; BrokerUnavailableError after `timeout` seconds."""
    client = admin(bootstrap)

    def ask() -> list[str]:
        # Short attempts, so the whole wait stays close to `timeout`.
        metadata = client.list_topics(timeout=max(min(timeout / 2, 3.0), 0.5))
        return sorted(metadata.topics)

    try:
        return retry(ask, f"cannot reach the Kafka broker at {bootstrap}", timeout)
    except BrokerUnavailableError as exc:
        raise BrokerUnavailableError(
            f"cannot reach the Kafka broker at {bootstrap} within {timeout:g}s "
            "(is it running? set STREAMML_KAFKA__BOOTSTRAP_SERVERS)") from exc


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 3
    compacted: bool = False


def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec], timeout: float = 10.0) -> None:
    """Create missing topics (compacted ones with cleanup.policy=compact); existing: kept."""
    existing = set(wait_for_broker(bootstrap, timeout))
    missing = [s for s in specs if s.name not in existing]
    if not missing:
        return
    new = [NewTopic(s.name, s.partitions, 1,
                    config={"cleanup.policy": "compact"} if s.compacted else {})
           for s in missing]
    client = admin(bootstrap)  # keep a reference: the futures die with their client
    for future in client.create_topics(new).values():
        try:
            future.result(timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


def require_topics(bootstrap: str, names: Iterable[str], timeout: float) -> None:
    """TopicNotFoundError (exit 4) naming the first topic the broker does not have."""
    existing = set(wait_for_broker(bootstrap, timeout))
    for name in names:
        if name not in existing:
            raise TopicNotFoundError(f"topic {name!r} does not exist on {bootstrap} "
                                "(create it with `streamml topics create`)")


def partitions_of(bootstrap: str, topic: str, timeout: float = 10.0) -> list[int]:
    client = admin(bootstrap)
    metadata = client.list_topics(topic, timeout=timeout)
    info = metadata.topics.get(topic)
    if info is None or info.error is not None:
        raise TopicNotFoundError(f"topic {topic!r} does not exist on {bootstrap}")
    return sorted(info.partitions)


def end_offsets(bootstrap: str, topic: str, committed_only: bool = True,
                timeout: float = 10.0) -> dict[int, int]:
    """Per partition, the offset after the last readable record.

    With `committed_only` it is the last stable offset: records of open transactions are not
    readable under read_committed yet, so a reader must not wait for them.
    """
    client = admin(bootstrap)
    level = IsolationLevel.READ_COMMITTED if committed_only else IsolationLevel.READ_UNCOMMITTED
    request = {TopicPartition(topic, p): OffsetSpec.latest()  # type: ignore[no-untyped-call]
               for p in partitions_of(bootstrap, topic, timeout)}
    futures = client.list_offsets(request, isolation_level=level, request_timeout=timeout)
    return {tp.partition: int(f.result().offset) for tp, f in futures.items()}


def start_offsets(bootstrap: str, topic: str, timeout: float = 10.0) -> dict[int, int]:
    """Per partition, the earliest offset still stored."""
    client = admin(bootstrap)
    request = {TopicPartition(topic, p): OffsetSpec.earliest()  # type: ignore[no-untyped-call]
               for p in partitions_of(bootstrap, topic, timeout)}
    futures = client.list_offsets(request, request_timeout=timeout)
    return {tp.partition: max(int(f.result().offset), 0) for tp, f in futures.items()}


def committed_offsets(bootstrap: str, group: str, timeout: float = 10.0
                      ) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the group's committed offset (never committed: absent)."""
    client = admin(bootstrap)
    futures = client.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group)], request_timeout=timeout)
    result: dict[tuple[str, int], int] = {}
    for future in futures.values():
        for tp in future.result().topic_partitions:
            if tp.offset >= 0:
                result[(tp.topic, tp.partition)] = int(tp.offset)
    return result


def compute_lag(ends: Mapping[int, int], committed: Mapping[int, int],
                starts: Mapping[int, int] | None = None) -> dict[int, int]:
    """Records produced but not yet consumed, per partition.

    A partition the group never committed counts from the earliest stored offset (what
    auto.offset.reset=earliest would read). Never negative.
    """
    # BEGIN SOLUTION
    starts = starts or {}
    lag: dict[int, int] = {}
    for partition, end in ends.items():
        position = committed.get(partition, starts.get(partition, 0))
        lag[partition] = max(end - position, 0)
    return lag
    # END SOLUTION


def group_lag(bootstrap: str, group: str, topic: str, timeout: float = 10.0) -> dict[int, int]:
    """Lag of `group` on `topic`, per partition (list_consumer_group_offsets + list_offsets)."""
    ends = end_offsets(bootstrap, topic, timeout=timeout)
    starts = start_offsets(bootstrap, topic, timeout)
    committed = {p: o for (t, p), o in committed_offsets(bootstrap, group, timeout).items()
                 if t == topic}
    return compute_lag(ends, committed, starts)
