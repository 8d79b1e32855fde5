"""Online scoring: join each event with its user's latest features, predict, emit.

The transform of the scoring stage; `TransactionalProcessor` wraps it in
consume-transform-produce transactions, so every input event yields exactly one committed
prediction even across crashes. Features come from the serving store (PostgreSQL, fed by the
Spark job): one query per batch for all its users.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Message

from streamml import metrics
from streamml.adapters.serde import DecodeError, EventCodec
from streamml.model import ModelCard, feature_vector
from streamml.processor import Output

STAGE = "score"
FeatureLookup = Callable[[list[str]], dict[str, dict[str, Any]]]


@dataclass
class ScoreTransform:
    codec: EventCodec
    model: Any
    card: ModelCard
    lookup: FeatureLookup
    predictions_topic: str
    now: Callable[[], float] = time.time

    def __call__(self, messages: Sequence[Message]) -> list[Output]:
        # BEGIN SOLUTION
        events = []
        for message in messages:
            try:
                events.append(self.codec.decode(str(message.topic()), message.value()))
            except DecodeError:
                continue  # validated upstream; nothing sensible to score
        if not events:
            return []
        features = self.lookup(sorted({str(e["user_id"]) for e in events}))
        rows = [features.get(str(e["user_id"])) for e in events]
        scores = self.model.predict_proba([feature_vector(r) for r in rows])[:, 1]
        outputs = []
        now = self.now()
        for event, row, score in zip(events, rows, scores, strict=True):
            window_end = row["window_end"].isoformat() if row else None
            body = {"event_id": event["event_id"], "user_id": event["user_id"],
                    "event_time": event["event_time"], "score": round(float(score), 6),
                    "model_version": self.card.version, "features_window_end": window_end,
                    "features_missing": row is None, "scored_at": int(now * 1000)}
            outputs.append(Output(self.predictions_topic, str(event["user_id"]),
                                  json.dumps(body).encode()))
            metrics.LATENCY.labels(STAGE).observe(max(now - event["event_time"] / 1000, 0.0))
        return outputs
        # END SOLUTION

    def aborted(self, messages: Sequence[Message]) -> None:
        """Stateless: nothing to undo."""
