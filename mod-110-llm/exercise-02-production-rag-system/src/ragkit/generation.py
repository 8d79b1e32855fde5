"""Answer generation: a LangChain chain over numbered sources, citations checked afterwards.

The prompt numbers the retrieved chunks [1]..[k]; the model is asked to cite them. Whatever the
model writes, only citations that point at a retrieved chunk survive (others are removed from
the text and reported), so a client can always resolve every [n] in an answer. When retrieval
is weak (`Retrieval.confidence`, from the scores of the mode that ranked the hits, below its
threshold, or nothing retrieved) the chain is not run at all and the answer is the abstention
sentence.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from ragkit.adapters.chroma import Hit
from ragkit.retrieval import Retrieval

ABSTAIN = "Not found in the documents."
_CITATION = re.compile(r"\[(\d+)\]")

SYSTEM = (
    "You answer questions about internal infrastructure runbooks using ONLY the numbered "
    "sources. Cite every fact with its source number in square brackets, like [1] or [2]. "
    f"If the sources do not contain the answer, reply exactly: {ABSTAIN}"
)
HUMAN = "Sources:\n{context}\n\nQuestion: {question}\nAnswer briefly, with citations:"


def format_context(hits: list[Hit], max_chars: int = 700) -> str:
    lines = []
    for n, hit in enumerate(hits, start=1):
        where = hit.metadata.get("source", "?")
        if hit.metadata.get("section"):
            where += f" > {hit.metadata['section']}"
        lines.append(f"[{n}] ({where}) {hit.text[:max_chars]}")
    return "\n\n".join(lines)


def build_chain(llm: BaseChatModel) -> Runnable[dict[str, str], str]:
    # BEGIN SOLUTION: LangChain LCEL: chat prompt (system + human) | llm | string parser
    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", HUMAN)])
    return prompt | llm | StrOutputParser()
    # END SOLUTION


@dataclass
class Answer:
    question: str
    text: str
    abstained: bool
    citations: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    max_similarity: float = -1.0
    timings: dict[str, float] = field(default_factory=dict)
    confidence: float = -1.0
    query_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def source_entry(n: int, hit: Hit) -> dict[str, Any]:
    return {"n": n, "id": hit.id, "source": hit.metadata.get("source"),
            "section": hit.metadata.get("section") or None,
            "page": hit.metadata.get("page") or None, "score": round(hit.score, 5),
            "text": hit.text}


def resolve_citations(text: str, hits: list[Hit]) -> tuple[str, list[dict[str, Any]], list[int]]:
    """Keep [n] markers that name a retrieved chunk; strip the rest. Returns
    (clean text, cited sources in first-cited order, invalid numbers)."""
    # BEGIN SOLUTION: keep [n] that name a retrieved chunk, strip the others, list both
    cited: list[int] = []
    invalid: list[int] = []

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= len(hits):
            if n not in cited:
                cited.append(n)
            return match.group(0)
        if n not in invalid:
            invalid.append(n)
        return ""

    clean = _CITATION.sub(keep, text)
    clean = re.sub(r"[ \t]{2,}", " ", clean).strip()
    return clean, [source_entry(n, hits[n - 1]) for n in cited], invalid
    # END SOLUTION


def is_low_confidence(retrieval: Retrieval) -> bool:
    """Nothing retrieved, or the ranking's own confidence is below its threshold."""
    return retrieval.low_confidence


def is_abstention(text: str) -> bool:
    return "not found in the documents" in text.lower()


class Generator:
    def __init__(self, llm: BaseChatModel) -> None:
        self.chain = build_chain(llm)

    def _finish(self, question: str, text: str, retrieval: Retrieval,
                started: float) -> Answer:
        clean, citations, invalid = resolve_citations(text, retrieval.hits)
        timings = dict(retrieval.timings, generate_s=time.perf_counter() - started)
        return Answer(question=question, text=clean or ABSTAIN,
                      abstained=is_abstention(clean) or not clean, citations=citations,
                      sources=[source_entry(n, h) for n, h in enumerate(retrieval.hits, 1)],
                      invalid_citations=invalid, max_similarity=retrieval.max_similarity,
                      timings=timings, confidence=retrieval.confidence,
                      query_id=retrieval.query_id)

    def _abstain(self, question: str, retrieval: Retrieval) -> Answer:
        return Answer(question=question, text=ABSTAIN, abstained=True,
                      sources=[source_entry(n, h) for n, h in enumerate(retrieval.hits, 1)],
                      max_similarity=retrieval.max_similarity,
                      timings=dict(retrieval.timings, generate_s=0.0),
                      confidence=retrieval.confidence, query_id=retrieval.query_id)

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        # BEGIN SOLUTION: abstain on low confidence without the LLM, else run the chain
        if is_low_confidence(retrieval):
            return self._abstain(question, retrieval)
        started = time.perf_counter()
        text = self.chain.invoke({"context": format_context(retrieval.hits),
                                  "question": question})
        return self._finish(question, text, retrieval, started)
        # END SOLUTION

    def stream(self, question: str, retrieval: Retrieval) -> Iterator[str | Answer]:
        """Yields text pieces as the model produces them, then the final `Answer`."""
        # BEGIN SOLUTION: yield the pieces of chain.stream, then the final Answer (or abstain)
        if is_low_confidence(retrieval):
            yield ABSTAIN
            yield self._abstain(question, retrieval)
            return
        started = time.perf_counter()
        pieces: list[str] = []
        for piece in self.chain.stream({"context": format_context(retrieval.hits),
                                        "question": question}):
            pieces.append(piece)
            yield piece
        yield self._finish(question, "".join(pieces), retrieval, started)
        # END SOLUTION
