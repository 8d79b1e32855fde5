"""Ingestion into a real (embedded, temp) Chroma with the real MiniLM embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ragkit import bundled
from ragkit.adapters.chroma import CollectionNotFoundError
from ragkit.evaluation import load_dataset
from ragkit.rag import QueryError, RagSystem
from tests.unit.test_documents import write_pdf

pytestmark = pytest.mark.integration


@pytest.mark.points(3)
@pytest.mark.parametrize("mode", ["vector", "bm25", "hybrid", "hybrid_mmr"])
def test_known_questions_retrieve_their_source_in_top_k(indexed, mode: str) -> None:
    items = [i for i in load_dataset(bundled.QA) if i.answerable]
    rs = indexed.settings.retrieval.model_copy(update={"mode": mode})
    misses = []
    for item in items:
        hits = indexed.retrieve(item.question, k=4, settings=rs).hits
        if not {h.metadata["source"] for h in hits} & set(item.sources):
            misses.append(item.id)
    assert len(misses) <= len(items) // 10, misses  # at least 90% in the top 4
    hits = indexed.retrieve("Which port should services use to connect to PgBouncer?",
                            k=4, settings=rs).hits
    assert hits[0].metadata["source"] == "runbooks/postgres-connection-exhaustion.md"


@pytest.mark.points(3)
def test_metadata_filter_and_pdf_pages(indexed) -> None:
    hits = indexed.retrieve("volume snapshots", k=3, filters={"kind": "pdf"}).hits
    assert hits and all(h.metadata["kind"] == "pdf" for h in hits)
    assert {h.metadata["page"] for h in hits} <= {1, 2}
    assert hits[0].metadata["source"] == "services/storage.pdf"


@pytest.mark.points(8)
def test_incremental_reingestion(make_settings, embedder, corpus_copy: Path) -> None:
    system = RagSystem(make_settings(), embedder=embedder)
    first = system.ingest(corpus_copy)
    assert len(first.added) == 36 and first.chunks_embedded > 36
    again = system.ingest(corpus_copy)
    assert again.chunks_embedded == 0 and len(again.unchanged) == 36

    edited = corpus_copy / "runbooks/redis-memory.md"
    edited.write_text(edited.read_text().replace("60 seconds", "90 seconds")
                      + "\nThe sentinel quorum is 2 of 3 instances.\n")
    third = system.ingest(corpus_copy)
    assert third.updated == ["runbooks/redis-memory.md"]
    assert len(third.unchanged) == 35 and third.added == [] and third.deleted == []
    redis_chunks = [h for h in system.store.all_records(system.settings.collection)
                    if h.metadata["source"] == "runbooks/redis-memory.md"]
    assert third.chunks_embedded == len(redis_chunks)
    assert any("90 seconds" in h.text for h in redis_chunks)
    assert not any("60 seconds" in h.text for h in redis_chunks)  # stale chunks are gone
    top = system.retrieve("sentinel quorum", k=1).hits[0]
    assert "quorum is 2 of 3" in top.text

    (corpus_copy / "policies/postmortem.md").unlink()
    fourth = system.ingest(corpus_copy)
    assert fourth.deleted == ["policies/postmortem.md"] and fourth.chunks_embedded == 0
    sources = {h.metadata["source"] for h in system.store.all_records("runbooks")}
    assert "policies/postmortem.md" not in sources and len(sources) == 35


@pytest.mark.points(3)
@pytest.mark.hidden
def test_bad_files_are_skipped_and_ingestion_continues(make_settings, embedder,
                                                       tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(bundled.CORPUS / "runbooks/vault-sealed.md", folder / "vault.md")
    (folder / "empty.txt").write_text("")
    (folder / "diagram.png").write_bytes(b"\x89PNG")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    write_pdf(folder / "locked.pdf", ["secret"], password="pw")
    report = RagSystem(make_settings(), embedder=embedder).ingest(folder)
    assert report.added == ["vault.md"]
    reasons = {s["source"]: s["reason"] for s in report.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["diagram.png"].startswith("unsupported type")
    assert reasons["broken.pdf"].startswith("unreadable PDF")
    assert reasons["locked.pdf"].startswith("encrypted PDF")


class _FailingEmbedder:
    """Delegates to the real embedder, then fails on call number `fail_at` (an interruption)."""

    def __init__(self, inner, fail_at: int) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.fail_at, self.calls, self.name = inner, fail_at, 0, inner.name

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt
        return self.inner.embed(texts)

    def tokenizer(self):  # type: ignore[no-untyped-def]
        return self.inner.tokenizer()

    def identity(self):  # type: ignore[no-untyped-def]
        return self.inner.identity()


def _snapshot(system: RagSystem) -> dict[str, tuple[str, str]]:
    return {h.id: (h.text, h.metadata["doc_hash"])
            for h in system.store.all_records(system.settings.collection)}


@pytest.mark.points(6)
def test_interrupted_ingest_resumes_to_the_same_index(make_settings, embedder,
                                                      tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    shutil.copytree(bundled.CORPUS / "policies", folder)
    clean = RagSystem(make_settings(data_dir=tmp_path / "clean"), embedder=embedder)
    clean.ingest(folder)
    expected = _snapshot(clean)

    # one document per batch here (the clean run above used one batch for all five)
    broken = RagSystem(make_settings(data_dir=tmp_path / "broken", ingest_batch_chunks=1),
                       embedder=_FailingEmbedder(embedder, fail_at=3))
    with pytest.raises(KeyboardInterrupt):
        broken.ingest(folder)
    partial = _snapshot(broken)
    assert 0 < len(partial) < len(expected)  # two documents made it, the rest did not
    assert set(partial) <= set(expected)  # never a half-written document
    resumed = RagSystem(make_settings(data_dir=tmp_path / "broken", ingest_batch_chunks=1),
                        embedder=embedder)
    report = resumed.ingest(folder)
    assert len(report.unchanged) == 2 and len(report.added) == 3
    assert _snapshot(resumed) == expected


@pytest.mark.points(1)
@pytest.mark.hidden
def test_query_errors(indexed) -> None:
    with pytest.raises(CollectionNotFoundError, match="does not exist"):
        indexed.retrieve("anything", collection="no-such-collection")
    with pytest.raises(QueryError, match="query too long"):
        indexed.retrieve("x" * 5000)
    with pytest.raises(QueryError, match="empty query"):
        indexed.retrieve("   ")


@pytest.mark.points(4)
def test_switching_the_embedding_model_is_refused(make_settings, embedder,
                                                  tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ragkit.adapters.chroma import EmbeddingMismatchError
    from ragkit.cli import cli

    folder = tmp_path / "docs"
    shutil.copytree(bundled.CORPUS / "policies", folder)
    data = tmp_path / "data"
    system = RagSystem(make_settings(data_dir=data, collection="policies"), embedder=embedder)
    system.ingest(folder)
    recorded = system.store.embedding_identity("policies")
    assert recorded == {"model": "local:all-MiniLM-L6-v2", "revision": embedder.revision,
                        "dimension": 384}

    # the same weights under another name/revision is another embedding space as far as
    # the index can tell: refuse instead of mixing vectors
    other = make_settings(data_dir=data, collection="policies")
    other.embedding.model = "all-mpnet-base-v2"
    switched = RagSystem(other)
    with pytest.raises(EmbeddingMismatchError, match="re-index with `ragkit collections drop"):
        switched.ingest(folder)
    with pytest.raises(EmbeddingMismatchError, match="local:all-MiniLM-L6-v2"):
        switched.retrieve("change freeze")
    assert system.store.embedding_identity("policies") == recorded  # nothing was rewritten

    r = CliRunner().invoke(cli, ["search", "change freeze", "-c", "policies", "--data-dir",
                                 str(data)], env={"RAGKIT_EMBEDDING__REVISION": "v2"})
    assert r.exit_code == 3, r.output
    assert r.output.startswith("error: collection 'policies' was indexed with "
                               "local:all-MiniLM-L6-v2 (revision ") and "Traceback" not in r.output
    assert "`ragkit collections drop policies && ragkit ingest DIR -c policies`" in r.output
    r = CliRunner().invoke(cli, ["search", "change freeze", "-c", "policies", "--data-dir",
                                 str(data)])
    assert r.exit_code == 0, r.output  # the model that built it still reads it
