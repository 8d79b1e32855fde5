"""`RagSystem`: settings in, the wired pipeline out (store, embedder, retriever, generator).

The CLI, the HTTP service, `eval` and `tune` all go through this one object, so what is measured
is what is served. Heavy parts (embedding model, LLM) load lazily and once.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ragkit.adapters.chroma import ChromaStore
from ragkit.adapters.embeddings import Embedder, make_embedder
from ragkit.config import RetrievalSettings, Settings
from ragkit.generation import Answer, Generator, is_low_confidence
from ragkit.ingest import IngestReport, ingest_folder
from ragkit.monitoring import FeedbackLog, RagMetrics, UnknownQueryError
from ragkit.retrieval import CrossEncoderReranker, Filters, Retrieval, Retriever

log = logging.getLogger("ragkit.query")
__all__ = ["QueryError", "RagSystem", "UnknownQueryError"]


class QueryError(ValueError):
    """The query itself is unacceptable (empty, oversized)."""


class RagSystem:
    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 metrics: RagMetrics | None = None) -> None:
        self.settings = settings
        if settings.torch_threads:
            import torch

            torch.set_num_threads(settings.torch_threads)
        self.store = ChromaStore(settings.chroma, str(settings.data_dir / "chroma"))
        self._embedder = embedder
        self._generator: Generator | None = None
        self._retrievers: dict[str, Retriever] = {}
        self._checked: set[str] = set()
        self.metrics = metrics or RagMetrics()
        self.feedback_log = FeedbackLog(settings.data_dir / "feedback.jsonl")

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings.embedding)
        return self._embedder

    def generator(self) -> Generator:
        if self._generator is None:
            from ragkit.adapters.llm import make_llm

            self._generator = Generator(make_llm(self.settings.llm))
        return self._generator

    def retriever(self, collection: str | None = None) -> Retriever:
        name = collection or self.settings.collection
        if name not in self._retrievers:
            s = self.settings.retrieval
            reranker = None
            if s.rerank == "cross-encoder":
                if not s.reranker_path:
                    raise QueryError("retrieval.rerank=cross-encoder needs retrieval.reranker_path")
                reranker = CrossEncoderReranker(s.reranker_path)
            self._retrievers[name] = Retriever(self.store, self.embedder, name, s, reranker)
        return self._retrievers[name]

    def _check_embedding(self, collection: str) -> None:
        """Once per collection and process: the index's embedding model is the configured one
        (re-checked after an ingest, which may have recorded it)."""
        if collection not in self._checked:
            self.store.check_embedding(collection, self.embedder.identity())
            self._checked.add(collection)

    # ---- ingestion
    def ingest(self, folder: Path, collection: str | None = None,
               progress: Callable[[int], None] | None = None,
               on_total: Callable[[int], None] | None = None) -> IngestReport:
        name = collection or self.settings.collection
        report = ingest_folder(folder, self.store, self.embedder, name, self.settings.chunking,
                               progress=progress, on_total=on_total,
                               batch_chunks=self.settings.ingest_batch_chunks)
        self.metrics.ingested_chunks.labels(name).inc(report.chunks_embedded)
        self._checked.discard(name)
        if name in self._retrievers:
            self._retrievers[name].invalidate()
        return report

    # ---- querying
    def check_query(self, question: str) -> str:
        question = question.strip()
        if not question:
            raise QueryError("empty query")
        if len(question) > self.settings.max_query_chars:
            raise QueryError(f"query too long: {len(question)} characters "
                             f"(limit {self.settings.max_query_chars}, max_query_chars)")
        return question

    def retrieve(self, question: str, collection: str | None = None, k: int | None = None,
                 filters: Filters | None = None,
                 settings: RetrievalSettings | None = None) -> Retrieval:
        name = collection or self.settings.collection
        question = self.check_query(question)
        self.store.collection(name)  # a missing collection fails before any model loads
        self._check_embedding(name)
        started = time.perf_counter()
        result = self.retriever(name).retrieve(question, k=k, filters=filters, settings=settings)
        self.metrics.retrieval_latency.labels(name).observe(time.perf_counter() - started)
        result.query_id = self.feedback_log.remember(uuid.uuid4().hex, name)
        return result

    def ask(self, question: str, collection: str | None = None, k: int | None = None,
            filters: Filters | None = None) -> Answer:
        name = collection or self.settings.collection
        retrieval = self.retrieve(question, name, k, filters)
        answer = self.generator().answer(question.strip(), retrieval)
        self._observe(name, answer, retrieval)
        return answer

    def ask_stream(self, question: str, collection: str | None = None, k: int | None = None,
                   filters: Filters | None = None) -> Iterator[str | Answer]:
        name = collection or self.settings.collection
        retrieval = self.retrieve(question, name, k, filters)
        for item in self.generator().stream(question.strip(), retrieval):
            if isinstance(item, Answer):
                self._observe(name, item, retrieval)
            yield item

    def _observe(self, collection: str, answer: Answer, retrieval: Retrieval) -> None:
        # BEGIN SOLUTION: count the query, observe latency, flag empty/low confidence, log it
        m = self.metrics
        m.queries.labels(collection, self.settings.retrieval.mode).inc()
        m.generation_latency.labels(collection).observe(answer.timings.get("generate_s", 0.0))
        if not retrieval.hits:
            m.empty_retrievals.labels(collection).inc()
        low = is_low_confidence(retrieval)
        if low:
            m.low_confidence.labels(collection).inc()
        log.info("query", extra={
            "query_id": answer.query_id, "collection": collection,
            "mode": self.settings.retrieval.mode,
            "retrieved": [{"id": h.id, "source": h.metadata.get("source"),
                           "score": round(h.score, 5)} for h in retrieval.hits],
            "max_similarity": round(retrieval.max_similarity, 5),
            "confidence": round(retrieval.confidence, 5), "low_confidence": low,
            "abstained": answer.abstained, "cited": [c["n"] for c in answer.citations],
            "timings": {k: round(v, 5) for k, v in answer.timings.items()},
        })
        # END SOLUTION

    def feedback(self, query_id: str, score: float, comment: str | None = None) -> dict[str, Any]:
        """Record feedback on an answered query: appended to data_dir/feedback.jsonl with its
        query id (the same id as in the query log line) and counted by verdict."""
        record = self.feedback_log.record(query_id, score, comment)
        collection = str(record["collection"])
        self.metrics.feedback.labels(collection).observe(score)
        self.metrics.feedback_total.labels(collection, str(record["verdict"])).inc()
        return record

    def collections(self) -> list[dict[str, Any]]:
        return self.store.list_collections()
