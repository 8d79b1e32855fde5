"""Evaluation (BEIR-style retrieval metrics, RAGAS-style answer checks) and parameter tuning.

Retrieval is judged at the document level, as in BEIR: the ranked chunks (depth max(10, k)) are
collapsed to the ranked list of their source documents (first occurrence wins) and compared with
the question's relevant sources: recall@{1,3,5,10}, MRR@10, nDCG@10. Relevance may be graded
(`"grades": {"page.html": 2, "other.html": 1}`: 2 answers the question, 1 helps); nDCG then
uses the grade as the gain (linear gain, as trec_eval), the other metrics count every graded
source as relevant. An item's optional `"split"` ("tune" or "report") lets `tune` choose
settings on one half and `eval` report on the other. `context_recall` is the share
of relevant documents present in the k chunks actually handed to the LLM.
Answer metrics need the LLM and run only with `answers=True`:
  - citation correctness: share of an answer's citations that point at a relevant source;
  - groundedness (heuristic): share of answer sentences whose content words are mostly (>= 60%)
    found in the chunks that sentence cites; a sentence citing nothing is unsupported;
  - abstention accuracy: abstained exactly on the questions marked unanswerable.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragkit.config import RetrievalSettings, Settings
from ragkit.generation import Answer
from ragkit.retrieval import tokenize

RECALL_AT = (1, 3, 5, 10)
SPLITS = ("tune", "report")


class DatasetError(ValueError):
    """The evaluation dataset is missing or malformed."""


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    sources: tuple[str, ...]
    answerable: bool
    evidence: str = ""
    grades: tuple[tuple[str, int], ...] = ()  # (source, gain); empty = every source gain 1
    split: str = ""

    def gains(self) -> dict[str, float]:
        return {s: float(g) for s, g in self.grades} if self.grades else {
            s: 1.0 for s in self.sources}


def load_dataset(path: Path, split: str | None = None) -> list[QAItem]:
    """JSON lines: {"id", "question", "sources": [...], "answerable": bool, "evidence"?,
    "grades"?: {source: 1|2|3}, "split"?: "tune"|"report"}; `split` keeps only that half."""
    if split is not None and split not in SPLITS:
        raise DatasetError(f"unknown split '{split}': expected one of {', '.join(SPLITS)}")
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read dataset ({exc.strerror})") from exc
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            grades = {str(k): int(v) for k, v in (raw.get("grades") or {}).items()}
            sources = tuple(str(s) for s in raw.get("sources", [])) or tuple(grades)
            item = QAItem(id=str(raw.get("id", f"line{number}")), question=str(raw["question"]),
                          sources=sources, answerable=bool(raw.get("answerable", bool(sources))),
                          evidence=str(raw.get("evidence", "")),
                          grades=tuple(sorted(grades.items())), split=str(raw.get("split", "")))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise DatasetError(f"{path}:{number}: invalid item ({exc})") from exc
        if grades and (set(grades) != set(item.sources) or min(grades.values()) < 1):
            raise DatasetError(f"{path}:{number}: grades must give every source a gain >= 1")
        if item.split and item.split not in SPLITS:
            raise DatasetError(f"{path}:{number}: unknown split '{item.split}'")
        if split is not None and item.split != split:
            continue
        if item.answerable and not item.sources:
            raise DatasetError(f"{path}:{number}: answerable item without sources")
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: no items" + (f" in split '{split}'" if split else ""))
    return items


# --------------------------------------------------------------------------- pure metrics


def dedupe(ranked: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in ranked:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], relevant: set[str], depth: int = 10) -> float:
    # BEGIN SOLUTION: 1 / rank of the first relevant item within depth, else 0
    for rank, item in enumerate(ranked[:depth], start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0
    # END SOLUTION


def ndcg_at_k(ranked: Sequence[str], relevant: set[str] | Mapping[str, float],
              k: int = 10) -> float:
    """nDCG: DCG = sum gain_i / log2(i + 1); IDCG sorts the gains, best first. A set means
    binary gain (1 for each relevant item); a mapping gives each item its graded gain."""
    # BEGIN SOLUTION: DCG of the top k (gain 1, or the item's grade) over the ideal DCG
    gains = dict(relevant) if isinstance(relevant, Mapping) else dict.fromkeys(relevant, 1.0)
    if not gains:
        return 0.0
    dcg = sum(gains.get(item, 0.0) / math.log2(i + 1) for i, item in enumerate(ranked[:k], 1))
    best = sorted(gains.values(), reverse=True)[:k]
    ideal = sum(g / math.log2(i + 1) for i, g in enumerate(best, 1))
    return dcg / ideal
    # END SOLUTION


_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CITE = re.compile(r"\[(\d+)\]")


def groundedness(answer_text: str, cited_texts: dict[int, str], threshold: float = 0.6) -> float:
    """Share of sentences whose content words are >= `threshold` covered by what they cite."""
    # BEGIN SOLUTION: share of sentences whose words are mostly in the chunks they cite
    sentences = [s for s in _SENTENCE.split(answer_text.strip()) if tokenize(_CITE.sub("", s))]
    if not sentences:
        return 0.0
    supported = 0
    for sentence in sentences:
        numbers = [int(n) for n in _CITE.findall(sentence)]
        evidence = set(itertools.chain.from_iterable(
            tokenize(cited_texts[n]) for n in numbers if n in cited_texts))
        words = tokenize(_CITE.sub("", sentence))
        if evidence and sum(w in evidence for w in words) / len(words) >= threshold:
            supported += 1
    return supported / len(sentences)
    # END SOLUTION


def citation_correctness(answer: Answer, relevant: set[str]) -> float:
    if not answer.citations:
        return 0.0
    return sum(c["source"] in relevant for c in answer.citations) / len(answer.citations)


# --------------------------------------------------------------------------- running


@dataclass
class EvalResult:
    label: str
    retrieval: dict[str, float]
    answers: dict[str, float] = field(default_factory=dict)
    per_question: list[dict[str, Any]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {"label": self.label, **self.retrieval, **self.answers}


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def evaluate(system: Any, items: Sequence[QAItem], label: str = "",
             collection: str | None = None, retrieval: RetrievalSettings | None = None,
             answers: bool = False,
             progress: Callable[[int], None] | None = None) -> EvalResult:
    """Run every question through `system` (a `RagSystem`) and aggregate the metrics."""
    from ragkit.generation import is_low_confidence

    s = retrieval or system.settings.retrieval
    # BEGIN SOLUTION: per question: retrieval metrics, the abstention gate, answer metrics
    depth = max(10, s.k)
    recalls: dict[int, list[float]] = {k: [] for k in RECALL_AT}
    rr, ndcg, gate_ok, context = [], [], [], []
    cite, grounded, abstain_ok = [], [], []
    rows = []
    for item in items:
        result = system.retrieve(item.question, collection=collection, k=depth, settings=s)
        docs = dedupe(str(h.metadata.get("source")) for h in result.hits)
        docs_at_k = dedupe(str(h.metadata.get("source")) for h in result.hits[:s.k])
        relevant = set(item.sources)
        low = is_low_confidence(result)
        gate_ok.append(float(low != item.answerable))
        row: dict[str, Any] = {"id": item.id, "answerable": item.answerable,
                               "ranked_sources": docs[:5],
                               "max_similarity": round(result.max_similarity, 4)}
        if item.answerable:
            for k in recalls:
                recalls[k].append(recall_at_k(docs, relevant, k))
            context.append(recall_at_k(docs_at_k, relevant, len(docs_at_k)))
            rr.append(reciprocal_rank(docs, relevant))
            ndcg.append(ndcg_at_k(docs, item.gains(), 10))
            row["ndcg@10"] = round(ndcg[-1], 4)
        if answers:
            answer = system.generator().answer(item.question,
                                               _truncate(result, s.k))
            abstain_ok.append(float(answer.abstained != item.answerable))
            if item.answerable and not answer.abstained:
                cite.append(citation_correctness(answer, relevant))
                texts = {c["n"]: c["text"] for c in answer.citations}
                grounded.append(groundedness(answer.text, texts))
            row["answer"] = answer.text
            row["abstained"] = answer.abstained
            row["cited_sources"] = [c["source"] for c in answer.citations]
        rows.append(row)
        if progress:
            progress(1)
    metrics = {f"recall@{k}": _mean(v) for k, v in sorted(recalls.items())}
    metrics.update({"context_recall": _mean(context), "mrr": _mean(rr), "ndcg@10": _mean(ndcg),
                    "abstention_acc_gate": _mean(gate_ok)})
    answer_metrics: dict[str, float] = {}
    if answers:
        answer_metrics = {"citation_correctness": _mean(cite), "groundedness": _mean(grounded),
                          "abstention_accuracy": _mean(abstain_ok),
                          "answered": float(len(cite))}
    return EvalResult(label or s.mode, metrics, answer_metrics, rows)
    # END SOLUTION


def _truncate(result: Any, k: int) -> Any:
    from dataclasses import replace

    return replace(result, hits=result.hits[:k])


# --------------------------------------------------------------------------- tuning


@dataclass(frozen=True)
class TuneSpace:
    chunk_sizes: tuple[int, ...] = (300, 600, 1000)
    overlaps: tuple[int, ...] = (0, 100)
    ks: tuple[int, ...] = (3, 5)
    weights: tuple[tuple[float, float], ...] = ((1.0, 0.5), (1.0, 1.0), (0.5, 1.0))
    mode: str = "hybrid"
    section_headers: tuple[bool, ...] = (True,)
    fusions: tuple[str, ...] = ("convex", "rrf")
    # retrieval.max_per_source values to compare; empty = the configured one only
    per_source: tuple[int, ...] = ()


def tune(settings: Settings, corpus: Path, items: Sequence[QAItem], space: TuneSpace,
         make_system: Callable[[Settings], Any],
         progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Grid search (chunking, k, fusion and its weights, source collapsing); each chunking gets
    its own scratch collection. Sorted best first by
    nDCG@10, then context recall (relevant documents among the k chunks), then the smaller k
    (cheaper prompts)."""
    # BEGIN SOLUTION: grid over chunking, k and weights; one scratch collection per chunking
    rows: list[dict[str, Any]] = []
    for size, overlap, headers in itertools.product(space.chunk_sizes, space.overlaps,
                                                    space.section_headers):
        if overlap >= size:
            continue
        chunking = settings.chunking.model_copy(
            update={"chunk_size": size, "chunk_overlap": overlap, "section_headers": headers})
        # the configured chunking reuses the configured collection (ingestion is incremental:
        # an index that already mirrors the corpus costs only a hash check); others get a
        # scratch collection that is dropped afterwards
        reuse = chunking == settings.chunking
        name = settings.collection if reuse else f"tune-{size}-{overlap}-{int(headers)}"
        trial = settings.model_copy(update={"chunking": chunking, "collection": name})
        system = make_system(trial)
        system.ingest(corpus)
        try:
            caps = space.per_source or (trial.retrieval.max_per_source,)
            for k, fusion, (wv, wb), cap in itertools.product(space.ks, space.fusions,
                                                              space.weights, caps):
                rs = trial.retrieval.model_copy(update={"k": k, "vector_weight": wv,
                                                        "bm25_weight": wb, "mode": space.mode,
                                                        "fusion": fusion, "max_per_source": cap})
                result = evaluate(system, items, retrieval=rs)
                rows.append({"chunk_size": size, "chunk_overlap": overlap,
                             "section_headers": headers, "k": k, "fusion": fusion,
                             "vector_weight": wv, "bm25_weight": wb, "max_per_source": cap,
                             "ndcg@10": result.retrieval["ndcg@10"],
                             "context_recall": result.retrieval["context_recall"],
                             "mrr": result.retrieval["mrr"]})
                if progress:
                    progress(1)
        finally:
            if not reuse:
                system.store.delete_collection(trial.collection)
    rows.sort(key=lambda r: (-r["ndcg@10"], -r["context_recall"], r["k"]))
    return rows
    # END SOLUTION
