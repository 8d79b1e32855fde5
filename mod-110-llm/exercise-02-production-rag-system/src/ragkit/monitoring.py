"""Prometheus metrics and per-query JSON logs.

Each `RagMetrics` owns its registry so several systems (tests, the service) never collide.
The empty-retrieval and low-confidence *rates* are the counters divided by `ragkit_queries_total`
in PromQL, e.g. `rate(ragkit_low_confidence_total[5m]) / rate(ragkit_queries_total[5m])`; the
feedback rate is `sum(rate(ragkit_feedback_total[1h])) / sum(rate(ragkit_queries_total[1h]))`
and the negative share `rate(ragkit_feedback_total{verdict="negative"}[1h])` over the same.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

log = logging.getLogger("ragkit.query")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class RagMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.queries = Counter("ragkit_queries_total", "Queries answered", ["collection", "mode"],
                               registry=self.registry)
        self.retrieval_latency = Histogram(
            "ragkit_retrieval_latency_seconds", "Query embedding + search + fusion time",
            ["collection"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.generation_latency = Histogram(
            "ragkit_generation_latency_seconds", "LLM time per answer (0 when abstaining early)",
            ["collection"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.empty_retrievals = Counter("ragkit_empty_retrievals_total",
                                        "Queries that retrieved no chunk", ["collection"],
                                        registry=self.registry)
        self.low_confidence = Counter("ragkit_low_confidence_total",
                                      "Queries below the similarity threshold (abstained)",
                                      ["collection"], registry=self.registry)
        self.feedback = Histogram("ragkit_feedback_score", "User feedback scores (-1 .. 1)",
                                  ["collection"], buckets=(-1, -0.5, 0, 0.5, 1),
                                  registry=self.registry)
        self.feedback_total = Counter("ragkit_feedback_total",
                                      "Feedback received, by verdict (score <0, 0, >0)",
                                      ["collection", "verdict"], registry=self.registry)
        self.ingested_chunks = Counter("ragkit_ingested_chunks_total", "Chunks embedded",
                                       ["collection"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class UnknownQueryError(LookupError):
    """Feedback names a query id this service did not answer (or no longer remembers)."""


_QUERY_ID = re.compile(r"^[0-9a-f]{32}$")


class FeedbackLog:
    """Query ids handed out (the last `remember_last`, in memory) and feedback on them,
    appended as JSON lines to `path` so it survives restarts and can be joined with the query
    log (same `query_id`)."""

    def __init__(self, path: Path, remember_last: int = 100_000) -> None:
        self.path = path
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._limit = remember_last
        self._lock = threading.Lock()

    def remember(self, query_id: str, collection: str) -> str:
        with self._lock:
            self._recent[query_id] = collection
            while len(self._recent) > self._limit:
                self._recent.popitem(last=False)
        return query_id

    def record(self, query_id: str, score: float, comment: str | None = None) -> dict[str, Any]:
        if not _QUERY_ID.match(query_id):
            raise UnknownQueryError(f"malformed query_id '{query_id[:40]}': expected the "
                                    "32-hex-digit id a /query answer returned")
        with self._lock:
            collection = self._recent.get(query_id)
            if collection is None:
                raise UnknownQueryError(f"unknown query_id '{query_id}': feedback is accepted "
                                        f"for the last {self._limit} queries of this process")
            verdict = "positive" if score > 0 else "negative" if score < 0 else "neutral"
            record = {"ts": round(time.time(), 3), "query_id": query_id,
                      "collection": collection, "score": score, "verdict": verdict,
                      "comment": comment}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as out:
                out.write(json.dumps(record) + "\n")
        return record

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]
