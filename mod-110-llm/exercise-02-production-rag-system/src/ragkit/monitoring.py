"""Prometheus metrics and per-query JSON logs.

Each `RagMetrics` owns its registry so several systems (tests, the service) never collide.
The empty-retrieval and low-confidence *rates* are the counters divided by `ragkit_queries_total`
in PromQL, e.g. `rate(ragkit_low_confidence_total[5m]) / rate(ragkit_queries_total[5m])`.
"""

from __future__ import annotations

import logging

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
        self.ingested_chunks = Counter("ragkit_ingested_chunks_total", "Chunks embedded",
                                       ["collection"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
