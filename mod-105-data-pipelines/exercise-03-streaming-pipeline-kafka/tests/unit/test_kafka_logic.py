"""Pure parts of the Kafka adapter and the processor: lag, backoff, offsets to commit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from confluent_kafka import KafkaError, KafkaException

from streamml.adapters.kafka import compute_lag, retry
from streamml.errors import BrokerUnavailableError
from streamml.processor import next_offsets


@pytest.mark.points(2)
def test_lag_is_end_minus_committed_and_never_negative() -> None:
    ends = {0: 100, 1: 50, 2: 10}
    assert compute_lag(ends, {0: 60, 1: 50}, {2: 4}) == {0: 40, 1: 0, 2: 6}
    assert compute_lag({0: 5}, {0: 9}) == {0: 0}
    assert compute_lag({0: 5}, {}) == {0: 5}


@pytest.mark.points(2)
def test_retry_backs_off_then_succeeds_or_gives_up() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "broker away"))
        return "ok"

    assert retry(flaky, "connect", timeout=10, first_delay=0.01) == "ok"
    assert len(calls) == 3

    def never() -> None:
        raise KafkaException(KafkaError(KafkaError._TRANSPORT, "broker away"))

    with pytest.raises(BrokerUnavailableError, match="connect: broker away"):
        retry(never, "connect", timeout=0.1, first_delay=0.02)


@dataclass
class _Msg:
    t: str
    p: int
    o: int

    def topic(self) -> str:
        return self.t

    def partition(self) -> int:
        return self.p

    def offset(self) -> int:
        return self.o


@pytest.mark.points(2)
@pytest.mark.hidden
def test_offsets_to_commit_are_one_past_the_last_message_per_partition() -> None:
    batch = [_Msg("a", 0, 5), _Msg("a", 1, 2), _Msg("a", 0, 9), _Msg("b", 0, 0),
             _Msg("a", 0, 7)]
    got = [(tp.topic, tp.partition, tp.offset) for tp in next_offsets(batch)]  # type: ignore[arg-type]
    assert got == [("a", 0, 10), ("a", 1, 3), ("b", 0, 1)]
