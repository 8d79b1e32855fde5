"""Incremental ingestion: a folder in, a Chroma collection that mirrors it out.

Each chunk carries its document's content hash and the chunking fingerprint, so the index
itself is the manifest (no side file to drift out of sync):
  - unchanged document (same hash, same chunking, complete) -> skipped, nothing embedded;
  - new or changed document -> chunked, embedded, upserted, THEN its stale chunks deleted;
  - document gone from the folder (or now unreadable) -> its chunks deleted.
Chunk ids are deterministic, so an interrupted run simply resumes: rerunning converges to the
same index as an uninterrupted one. Documents are embedded and upserted in batches of about
`batch_chunks` chunks (per-call overhead dominates otherwise), always whole documents, and a
document's new chunks are written before its old ones go, so a query never sees a document
with no chunks mid-update.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragkit.adapters.chroma import ChromaStore
from ragkit.adapters.embeddings import Embedder
from ragkit.config import ChunkingSettings
from ragkit.documents import (
    Chunk,
    DocumentError,
    chunk_document,
    chunking_fingerprint,
    iter_files,
    load_document,
)

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    collection: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_deleted: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_embedded / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Indexed:
    ids: set[str] = field(default_factory=set)
    doc_hashes: set[str] = field(default_factory=set)
    chunkings: set[str] = field(default_factory=set)
    expected: set[int] = field(default_factory=set)


def _existing_by_source(store: ChromaStore, collection: str) -> dict[str, _Indexed]:
    by_source: dict[str, _Indexed] = defaultdict(_Indexed)
    for chunk_id, meta in store.metadata_index(collection).items():
        entry = by_source[str(meta.get("source", ""))]
        entry.ids.add(chunk_id)
        entry.doc_hashes.add(str(meta.get("doc_hash", "")))
        entry.chunkings.add(str(meta.get("chunking", "")))
        entry.expected.add(int(meta.get("doc_chunks", -1)))
    return by_source


def ingest_folder(folder: Path, store: ChromaStore, embedder: Embedder, collection: str,
                  chunking: ChunkingSettings,
                  progress: Callable[[int], None] | None = None,
                  on_total: Callable[[int], None] | None = None,
                  batch_chunks: int = 256) -> IngestReport:
    """Make `collection` mirror `folder`; see the module docstring for the rules."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a directory")
    started = time.perf_counter()
    report = IngestReport(collection=collection)
    fingerprint = chunking_fingerprint(chunking)
    existing = _existing_by_source(store, collection)
    store.check_embedding(collection, embedder.identity(), record=True)
    files = list(iter_files(folder))
    if on_total:
        on_total(len(files))
    seen: set[str] = set()
    tokenizer = embedder.tokenizer() if chunking.strategy == "token" else None
    pending: list[tuple[str, bool, list[Chunk]]] = []

    def flush() -> None:
        """Embed and upsert whole documents together, then drop their stale chunks."""
        # BEGIN SOLUTION: embed + upsert the pending documents, then delete their stale chunks
        chunks = [c for _, _, doc_chunks in pending for c in doc_chunks]
        if chunks:
            store.upsert(collection, chunks, embedder.embed([c.text for c in chunks]))
            report.chunks_embedded += len(chunks)
        for source, is_update, doc_chunks in pending:
            if is_update:
                stale = sorted(existing[source].ids - {c.id for c in doc_chunks})
                store.delete_ids(collection, stale)
                report.chunks_deleted += len(stale)
                report.updated.append(source)
            else:
                report.added.append(source)
            if progress:
                progress(1)
        pending.clear()
        # END SOLUTION

    # BEGIN SOLUTION: skip unchanged documents, queue new or changed ones, drop deleted ones
    for path in files:
        source = path.relative_to(folder).as_posix()
        seen.add(source)
        try:
            doc = load_document(path, folder)
        except DocumentError as exc:
            report.skipped.append({"source": source, "reason": str(exc)})
            log.warning("skipped document", extra={"source": source, "reason": str(exc)})
            if source in existing:  # it was indexed before: the folder no longer backs it
                store.delete_ids(collection, sorted(existing[source].ids))
                report.chunks_deleted += len(existing[source].ids)
                report.deleted.append(source)
            if progress:
                progress(1)
            continue
        old = existing.get(source)
        if (old is not None and old.doc_hashes == {doc.content_hash}
                and old.chunkings == {fingerprint} and old.expected == {len(old.ids)}):
            report.unchanged.append(source)
            if progress:
                progress(1)
            continue
        pending.append((source, old is not None, chunk_document(doc, chunking, tokenizer)))
        if sum(len(c) for _, _, c in pending) >= batch_chunks:
            flush()
    flush()
    for source in sorted(set(existing) - seen):
        store.delete_ids(collection, sorted(existing[source].ids))
        report.chunks_deleted += len(existing[source].ids)
        report.deleted.append(source)
    report.seconds = time.perf_counter() - started
    log.info("ingest finished", extra={"collection": collection,
                                       "embedded": report.chunks_embedded,
                                       "deleted": report.chunks_deleted})
    return report
    # END SOLUTION
