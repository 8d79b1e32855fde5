"""The quality stage: decode, check rules, de-duplicate; bad records to the dead-letter topic.

Runs as a consumer group inside `TransactionalProcessor`, so the valid events, the dead
letters and the input offsets commit together. A bad record costs one DLQ message with
headers saying why and where it came from (reason, source topic / partition / offset); it
never stops its partition. Valid events are forwarded byte for byte (same schema id).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from confluent_kafka import Message

from streamml import metrics
from streamml.adapters.serde import DecodeError, EventCodec
from streamml.processor import Output
from streamml.quality import QualityChecker

STAGE = "validate"


def dlq_headers(message: Message, reason: str, detail: str) -> list[tuple[str, bytes]]:
    """Where a dead letter came from and why: enough to find, fix and replay it."""
    # BEGIN SOLUTION
    return [("dlq.reason", reason.encode()), ("dlq.detail", detail.encode()[:500]),
            ("source.topic", str(message.topic()).encode()),
            ("source.partition", str(message.partition()).encode()),
            ("source.offset", str(message.offset()).encode())]
    # END SOLUTION


@dataclass
class ValidateTransform:
    codec: EventCodec
    checker: QualityChecker
    valid_topic: str
    dlq_topic: str
    now: Callable[[], float] = time.time
    _added: list[str] = field(default_factory=list)

    def __call__(self, messages: Sequence[Message]) -> list[Output]:
        outputs: list[Output] = []
        self._added = []
        for message in messages:
            raw_key = message.key()
            key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
            try:
                event = self.codec.decode(str(message.topic()), message.value())
            except DecodeError as failure:
                outputs.append(self._dead_letter(message, key, failure.reason, failure.detail))
                continue
            verdict = self.checker.check(event)
            if not verdict.ok:
                if verdict.reason != "duplicate":
                    metrics.QUALITY_FAILURES.labels(verdict.reason).inc()
                outputs.append(self._dead_letter(message, key, verdict.reason, verdict.detail))
                continue
            self._added.append(str(event["event_id"]))
            outputs.append(Output(self.valid_topic, str(event["user_id"]),
                                  message.value() or b""))
            metrics.LATENCY.labels(STAGE).observe(
                max(self.now() - int(event["event_time"]) / 1000.0, 0.0))
        return outputs

    def _dead_letter(self, message: Message, key: str | None, reason: str,
                     detail: str) -> Output:
        metrics.DLQ.labels(reason).inc()
        return Output(self.dlq_topic, key, message.value() or b"",
                      dlq_headers(message, reason, detail))

    def aborted(self, messages: Sequence[Message]) -> None:
        """The batch will be redone: forget the ids it added to the de-duplicator."""
        for event_id in self._added:
            self.checker.dedup.forget(event_id)
        self._added = []
