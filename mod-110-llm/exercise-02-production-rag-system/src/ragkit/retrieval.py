"""Retrieval: vector (Chroma), BM25, hybrid (convex or reciprocal rank fusion), MMR, optional
rerank, and source collapsing.

The ranking math (`rrf_fuse`, `convex_fuse`, `mmr_select`, `collapse_by_source`, `BM25Index`)
is pure and unit-tested on hand-made inputs; `Retriever` wires it to the store and embedder.
"""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ragkit.adapters.chroma import ChromaStore, Hit
from ragkit.adapters.embeddings import Embedder
from ragkit.config import RetrievalSettings

_TOKEN = re.compile(r"[a-z0-9]+(?:[._:/-][a-z0-9]+)*")
_STOP = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "in", "is", "it", "of", "on", "or", "the", "this", "to", "what", "when", "where",
    "which", "who", "why", "with", "you", "your"))

Filters = Mapping[str, Any]


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; keeps identifiers like `etcd-defrag` or `10.0.0.1` whole and
    also emits their parts, so `etcd` matches `etcd-defrag`."""
    out: list[str] = []
    for match in _TOKEN.findall(text.lower()):
        if match not in _STOP:
            out.append(match)
        parts = re.split(r"[._:/-]", match)
        if len(parts) > 1:
            out.extend(p for p in parts if p and p not in _STOP)
    return out


class BM25Index:
    """Okapi BM25 over an inverted index (numpy accumulation: ~1 ms per query at 10k chunks)."""

    def __init__(self, records: Sequence[Hit], k1: float = 1.2, b: float = 0.75,
                 heading_weight: float = 0.0) -> None:
        self.records = list(records)
        self.k1, self.b = k1, b
        self.position = {rec.id: i for i, rec in enumerate(self.records)}
        # BEGIN SOLUTION: inverted index: postings with term frequencies, lengths, avgdl, idf
        lengths = []
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, rec in enumerate(self.records):
            counts: Counter[str] = Counter()
            counts.update(tokenize(rec.text))
            if heading_weight > 0:
                # BM25F-style field weight: the document title / section heading terms count
                # `heading_weight` times each, in every chunk of the section
                for term in tokenize(str(rec.metadata.get("section") or "")):
                    counts[term] += heading_weight  # type: ignore[assignment]
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                postings[term].append((i, tf))
        self.doc_len = np.asarray(lengths, dtype=np.float64)
        self.avgdl = float(self.doc_len.mean()) if len(lengths) else 0.0
        n = len(self.records)
        self.n = n
        self.postings: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], float]] = {}
        for term, plist in postings.items():
            doc_idx = np.fromiter((p[0] for p in plist), dtype=np.int64, count=len(plist))
            freqs = np.fromiter((p[1] for p in plist), dtype=np.float64, count=len(plist))
            df = len(plist)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            self.postings[term] = (doc_idx, freqs, idf)
        # END SOLUTION

    def scores(self, query: str) -> npt.NDArray[np.float64]:
        # BEGIN SOLUTION: the Okapi BM25 score of every record for the query terms
        scores = np.zeros(len(self.records), dtype=np.float64)
        if not self.records:
            return scores
        norm = self.k1 * (1.0 - self.b + self.b * self.doc_len / max(self.avgdl, 1e-9))
        for term in set(tokenize(query)):
            if term not in self.postings:
                continue
            idx, tf, idf = self.postings[term]
            scores[idx] += idf * tf * (self.k1 + 1.0) / (tf + norm[idx])
        return scores
        # END SOLUTION

    def ceiling(self, query: str) -> float:
        """The score no record can reach: every query term at saturation (tf -> infinity,
        idf * (k1 + 1)); a term the index has never seen counts with document frequency 0.
        `score / ceiling` is how much of the query a record covers, comparable across queries."""
        total = 0.0
        for term in set(tokenize(query)):
            idf = (self.postings[term][2] if term in self.postings
                   else math.log(1.0 + (self.n + 0.5) / 0.5))
            total += idf * (self.k1 + 1.0)
        return total

    def search(self, query: str, n: int, filters: Filters | None = None,
               scores: npt.NDArray[np.float64] | None = None) -> list[Hit]:
        scores = self.scores(query) if scores is None else scores
        order = np.argsort(-scores, kind="stable")
        out: list[Hit] = []
        for i in order:
            if scores[i] <= 0 or len(out) >= n:
                break
            rec = self.records[int(i)]
            if filters and not matches(rec.metadata, filters):
                continue
            out.append(replace(rec, score=float(scores[i])))
        return out


def matches(metadata: Mapping[str, Any], filters: Filters) -> bool:
    """The subset of Chroma's `where` language ragkit exposes: equality and `$in` per field."""
    for key, cond in filters.items():
        value = metadata.get(key)
        if isinstance(cond, Mapping):
            if "$in" in cond and value not in cond["$in"]:
                return False
            if "$eq" in cond and value != cond["$eq"]:
                return False
            if "$ne" in cond and value == cond["$ne"]:
                return False
        elif value != cond:
            return False
    return True


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    if not filters:
        return None
    clauses = [{k: v} for k, v in filters.items()]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def rrf_fuse(rankings: Sequence[Sequence[str]], k: int = 60,
             weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """Weighted reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)), rank from 1.

    Ties keep the order in which ids were first seen, so results are deterministic.
    """
    # BEGIN SOLUTION: weighted reciprocal rank fusion, ties in first-seen order
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
    # END SOLUTION


def convex_fuse(cosine: Mapping[str, float], coverage: Mapping[str, float],
                vector_weight: float = 1.0, bm25_weight: float = 1.0
                ) -> list[tuple[str, float]]:
    """Score fusion: (w_v * cosine + w_b * BM25 coverage) / (w_v + w_b) per candidate, best
    first (ties in the order of `cosine`). Unlike RRF it keeps how far ahead a candidate is,
    so a retriever that is weak on a query (low scores everywhere) barely moves the ranking.
    Both inputs are already on comparable [0, 1]-ish scales: cosine similarity and the share
    of the query's BM25 ceiling."""
    # BEGIN SOLUTION: weighted mean of the two calibrated scores, best first (stable ties)
    total = vector_weight + bm25_weight
    if total <= 0:
        raise ValueError("fusion weights must not both be 0")
    fused = {i: (vector_weight * cosine[i] + bm25_weight * coverage.get(i, 0.0)) / total
             for i in cosine}
    return sorted(fused.items(), key=lambda item: -item[1])
    # END SOLUTION


def mmr_select(query: npt.NDArray[np.float32], candidates: npt.NDArray[np.float32], n: int,
               lambda_: float = 0.7,
               relevance: Sequence[float] | None = None) -> list[int]:
    """Maximal marginal relevance over unit vectors; returns indices into `candidates`.

    Each step picks argmax  lambda * rel(d) - (1 - lambda) * max_{s in selected} cos(d, s),
    where rel(d) is cos(query, d) unless `relevance` supplies fused scores (scaled to [0, 1]).
    """
    # BEGIN SOLUTION: greedy MMR: relevance minus redundancy with what is already picked
    if len(candidates) == 0 or n <= 0:
        return []
    if relevance is None:
        rel = candidates @ query
    else:
        raw = np.asarray(relevance, dtype=np.float64)
        span = float(raw.max() - raw.min())
        rel = (raw - raw.min()) / span if span > 0 else np.ones_like(raw)
    sims = candidates @ candidates.T
    selected: list[int] = []
    remaining = list(range(len(candidates)))
    while remaining and len(selected) < n:
        if selected:
            redundancy = sims[np.ix_(remaining, selected)].max(axis=1)
        else:
            redundancy = np.zeros(len(remaining))
        scores = lambda_ * rel[remaining] - (1.0 - lambda_) * redundancy
        best = remaining[int(np.argmax(scores))]
        selected.append(best)
        remaining.remove(best)
    return selected
    # END SOLUTION


def collapse_by_source(hits: Sequence[Hit], per_source: int) -> list[Hit]:
    """Field collapsing on the `source` metadata (as OpenSearch/Elasticsearch `collapse`):
    walk the ranking and keep at most `per_source` chunks of any one document; the chunks held
    back follow afterwards in their own rank order. 0 = off. The first hit never moves, and
    with 1 the head of the list is the documents ranked by their best chunk (MaxP)."""
    # BEGIN SOLUTION: keep rank order, hold back a source's chunks past its quota
    if per_source <= 0:
        return list(hits)
    taken: Counter[str] = Counter()
    head: list[Hit] = []
    tail: list[Hit] = []
    for hit in hits:
        source = str(hit.metadata.get("source"))
        if taken[source] < per_source:
            taken[source] += 1
            head.append(hit)
        else:
            tail.append(hit)
    return head + tail
    # END SOLUTION


class Reranker(Protocol):
    def score(self, query: str, texts: list[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder from a local folder (none is bundled)."""

    def __init__(self, path: str) -> None:
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(path, local_files_only=True)

    def score(self, query: str, texts: list[str]) -> list[float]:
        return [float(s) for s in self._model.predict([(query, t) for t in texts])]


@dataclass
class Retrieval:
    """What a query retrieved, with the evidence the monitoring and abstention need."""

    hits: list[Hit]
    max_similarity: float  # best cosine similarity among vector candidates (-1 if none)
    timings: dict[str, float] = field(default_factory=dict)
    # evidence of the ranking that produced `hits` (see `Retriever._confidence`) and the
    # threshold below which the answer abstains; both on the same scale
    confidence: float = -1.0
    min_confidence: float = 0.0
    query_id: str = ""

    @property
    def low_confidence(self) -> bool:
        return not self.hits or self.confidence < self.min_confidence


class Retriever:
    """Vector / BM25 / hybrid (convex or RRF) / hybrid+MMR over one collection, then source
    collapsing (`max_per_source`)."""

    def __init__(self, store: ChromaStore, embedder: Embedder, collection: str,
                 settings: RetrievalSettings, reranker: Reranker | None = None) -> None:
        self.store, self.embedder, self.collection = store, embedder, collection
        self.settings = settings
        self.reranker = reranker
        self._bm25: dict[tuple[float, float, float], BM25Index] = {}
        self._records: list[Hit] | None = None
        # query text -> vector: eval and tune ask the same questions once per mode/setting,
        # and embedding the query is most of a retrieval's time on CPU
        self._query_vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()

    def invalidate(self) -> None:
        """Drop the in-memory BM25 indexes (after ingestion changed the collection)."""
        self._bm25.clear()
        self._records = None

    def bm25(self, s: RetrievalSettings | None = None) -> BM25Index:
        """The BM25 index for these parameters (one per k1/b/heading weight, built once)."""
        s = s or self.settings
        key = (s.bm25_k1, s.bm25_b, s.heading_weight)
        if key not in self._bm25:
            if self._records is None:
                self._records = self.store.all_records(self.collection)
            self._bm25[key] = BM25Index(self._records, *key)
        return self._bm25[key]

    def retrieve(self, query: str, k: int | None = None,
                 filters: Filters | None = None,
                 settings: RetrievalSettings | None = None) -> Retrieval:
        import time

        s = settings or self.settings
        k = k or s.k
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        qvec = self._query_vectors.get(query)
        if qvec is None:
            qvec = self.embedder.embed([query])[0]
            self._query_vectors[query] = qvec
            if len(self._query_vectors) > 4096:
                self._query_vectors.popitem(last=False)
        timings["embed_s"] = time.perf_counter() - t0
        self.store.collection(self.collection)  # raises CollectionNotFoundError early
        t1 = time.perf_counter()
        # The vector search runs in every mode (hybrid confidence needs the cosines of BM25 hits)
        vec_hits, vec_matrix = self.store.query(self.collection, qvec, s.candidates,
                                                chroma_where(filters))
        timings["vector_s"] = time.perf_counter() - t1
        max_sim = max((h.score for h in vec_hits), default=-1.0)
        t2 = time.perf_counter()
        bm_scores = self.bm25(s).scores(query) if s.mode != "vector" else None
        bm_hits = (self.bm25(s).search(query, s.candidates, filters, bm_scores)
                   if bm_scores is not None else [])
        timings["bm25_s"] = time.perf_counter() - t2
        rerank_scores: list[float] | None = None
        evidence: tuple[dict[str, float], dict[str, float]] | None = None

        # BEGIN SOLUTION: per mode: vector, BM25, or fusion (+ MMR); rerank; collapse; top k
        if s.mode == "vector":
            ranked = vec_hits
        elif s.mode == "bm25":
            ranked = bm_hits
        else:
            by_id = {h.id: h for h in bm_hits} | {h.id: h for h in vec_hits}
            if s.fusion == "convex":
                assert bm_scores is not None
                evidence = self._evidence(query, qvec, list(by_id), vec_hits, bm_scores, s)
                fused = convex_fuse(*evidence, s.vector_weight, s.bm25_weight)
            else:
                fused = rrf_fuse([[h.id for h in vec_hits], [h.id for h in bm_hits]],
                                 k=s.rrf_k, weights=[s.vector_weight, s.bm25_weight])
            ranked = [replace(by_id[i], score=score) for i, score in fused]
            if s.mode == "hybrid_mmr":
                picked = self._mmr(qvec, ranked, vec_hits, vec_matrix, k, s)
                chosen = {h.id for h in picked}
                # the rest (fused order) only fills places the source collapse frees up
                rest = [] if self.reranker is not None else [
                    h for h in ranked if h.id not in chosen]
                ranked = picked + rest
        if self.reranker is not None and ranked:
            t3 = time.perf_counter()
            scores = self.reranker.score(query, [h.text for h in ranked])
            order = sorted(range(len(ranked)), key=lambda i: -scores[i])
            ranked = [replace(ranked[i], score=scores[i]) for i in order]
            timings["rerank_s"] = time.perf_counter() - t3
        hits = collapse_by_source(ranked, s.max_per_source)[:k]
        if self.reranker is not None:
            rerank_scores = [h.score for h in hits]
        confidence, threshold = self._confidence(query, qvec, hits, vec_hits, bm_scores,
                                                 rerank_scores, s, evidence)
        return Retrieval(hits=hits, max_similarity=max_sim, timings=timings,
                         confidence=confidence, min_confidence=threshold)
        # END SOLUTION

    def _confidence(self, query: str, qvec: npt.NDArray[np.float32], hits: list[Hit],
                    vec_hits: list[Hit], bm_scores: npt.NDArray[np.float64] | None,
                    rerank_scores: list[float] | None, s: RetrievalSettings,
                    evidence: tuple[dict[str, float], dict[str, float]] | None = None
                    ) -> tuple[float, float]:
        """(confidence, threshold) from the scores of the mode that ranked `hits`:
        a reranker's probability (sigmoid of its logit, threshold 0.5: its own boundary);
        vector: best cosine of the returned chunks vs `min_similarity`; bm25: best BM25 score
        over the query's ceiling vs `min_bm25_coverage`; hybrid: best weighted mean of a
        returned chunk's cosine and coverage vs the same weighted mean of the thresholds."""
        hits = hits[:s.k]  # what the LLM is handed by default (eval ranks deeper)
        if not hits:
            return -1.0, 0.0
        if rerank_scores is not None:
            return max(1.0 / (1.0 + math.exp(-x)) for x in rerank_scores[:s.k]), 0.5
        if s.mode == "vector":
            return max(h.score for h in hits), s.min_similarity
        assert bm_scores is not None
        ids = [h.id for h in hits]
        if s.mode == "bm25":
            _, coverage = self._evidence(query, qvec, ids, vec_hits, bm_scores, s, cosine=False)
            return max(coverage.values()), s.min_bm25_coverage
        if evidence is None or not set(ids) <= set(evidence[0]):  # RRF fusion: not yet known
            evidence = self._evidence(query, qvec, ids, vec_hits, bm_scores, s)
        cosine, coverage = evidence
        wv, wb = (s.vector_weight, s.bm25_weight) if s.vector_weight + s.bm25_weight > 0 else (
            1.0, 1.0)
        combined = [(wv * cosine[h.id] + wb * coverage[h.id]) / (wv + wb) for h in hits]
        return max(combined), (wv * s.min_similarity + wb * s.min_bm25_coverage) / (wv + wb)

    def _evidence(self, query: str, qvec: npt.NDArray[np.float32], ids: list[str],
                  vec_hits: list[Hit], bm_scores: npt.NDArray[np.float64],
                  s: RetrievalSettings, cosine: bool = True
                  ) -> tuple[dict[str, float], dict[str, float]]:
        """Both retrievers' calibrated evidence for each id: cosine similarity to the query
        (stored vectors for BM25-only candidates) and BM25 coverage (score / ceiling)."""
        bm25 = self.bm25(s)
        ceiling = max(bm25.ceiling(query), 1e-9)
        coverage = {i: float(bm_scores[bm25.position[i]]) / ceiling if i in bm25.position
                    else 0.0 for i in ids}
        known = {h.id: h.score for h in vec_hits}
        missing = [i for i in ids if i not in known] if cosine else []
        for chunk_id, vector in self.store.embeddings(self.collection, missing).items():
            known[chunk_id] = float(vector @ qvec)
        return {i: known.get(i, 0.0) for i in ids}, coverage

    def _mmr(self, qvec: npt.NDArray[np.float32], ranked: list[Hit], vec_hits: list[Hit],
             vec_matrix: npt.NDArray[np.float32], k: int, s: RetrievalSettings) -> list[Hit]:
        known = {h.id: vec_matrix[i] for i, h in enumerate(vec_hits)}
        missing = [h.id for h in ranked if h.id not in known]
        known.update(self.store.embeddings(self.collection, missing))  # BM25-only candidates
        matrix = np.stack([known[h.id] for h in ranked]).astype(np.float32)
        order = mmr_select(qvec, matrix, k, s.mmr_lambda, relevance=[h.score for h in ranked])
        return [ranked[i] for i in order]
