"""ChromaDB adapter: one collection per corpus, cosine space, embeddings always supplied by us.

Chroma never embeds on its own here (`embedding_function=None`): its default would download an
ONNX model at run time. Persistent (embedded) mode by default, HTTP client for a `chroma run`
server as an option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragkit.config import ChromaSettings
from ragkit.documents import Chunk

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")
_PAGE = 5000  # rows per get() page: Chroma caps SQL variables per statement


class StoreError(Exception):
    """The vector store cannot be reached or rejected the request."""


class CollectionNotFoundError(StoreError):
    """The named collection does not exist."""


class EmbeddingMismatchError(Exception):
    """The collection was indexed with another embedding model (vectors are not comparable)."""


_EMBEDDING_KEYS = {"model": "embedding_model", "revision": "embedding_revision",
                   "dimension": "embedding_dimension"}


def _describe(identity: dict[str, Any]) -> str:
    return (f"{identity.get('model')} (revision {identity.get('revision')}, "
            f"{identity.get('dimension')} dims)")


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity for vector hits, BM25 score or fused score otherwise


def validate_collection_name(name: str) -> str:
    if not _NAME.match(name):
        raise StoreError(f"invalid collection name '{name}': 3-512 characters from "
                         "[a-zA-Z0-9._-], starting and ending with a letter or digit")
    return name


class ChromaStore:
    def __init__(self, settings: ChromaSettings, path: str | None = None) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaClientSettings

        client_settings = ChromaClientSettings(anonymized_telemetry=False)
        try:
            if settings.mode == "http":
                self._client: Any = chromadb.HttpClient(host=settings.host, port=settings.port,
                                                        settings=client_settings)
                self._client.heartbeat()
            else:
                if path is None:
                    raise StoreError("persistent mode needs a data directory")
                self._client = chromadb.PersistentClient(path=path, settings=client_settings)
        except StoreError:
            raise
        except Exception as exc:
            where = f"{settings.host}:{settings.port}" if settings.mode == "http" else path
            raise StoreError(f"cannot open Chroma at {where}: {exc}") from exc

    # ---- collections
    def list_collections(self) -> list[dict[str, Any]]:
        out = []
        for col in self._client.list_collections():
            collection = self._client.get_collection(col.name, embedding_function=None)
            out.append({"name": col.name, "chunks": collection.count(),
                        "metadata": dict(collection.metadata or {})})
        return sorted(out, key=lambda c: str(c["name"]))

    def exists(self, name: str) -> bool:
        return any(c.name == name for c in self._client.list_collections())

    def collection(self, name: str, create: bool = False) -> Any:
        validate_collection_name(name)
        if create:
            return self._client.get_or_create_collection(
                name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        import chromadb.errors

        try:
            return self._client.get_collection(name, embedding_function=None)
        except (chromadb.errors.NotFoundError, ValueError) as exc:
            raise CollectionNotFoundError(f"collection '{name}' does not exist "
                                     "(run `ragkit ingest DIR` first)") from exc

    def embedding_identity(self, name: str) -> dict[str, Any] | None:
        """The embedding model recorded in the collection's metadata (None if none)."""
        meta = dict(self.collection(name).metadata or {})
        if _EMBEDDING_KEYS["model"] not in meta:
            return None
        return {key: meta.get(stored) for key, stored in _EMBEDDING_KEYS.items()}

    def check_embedding(self, name: str, identity: dict[str, Any], record: bool = False) -> None:
        """Refuse to mix embedding spaces: the collection's recorded model must be `identity`.

        With `record` (ingestion), an empty collection without a record adopts `identity`.
        """
        col = self.collection(name, create=record)
        stored = self.embedding_identity(name)
        if stored is None and (record and col.count() == 0):
            col.modify(metadata={**dict(col.metadata or {}),
                                 **{k: identity[key] for key, k in _EMBEDDING_KEYS.items()}})
            return
        if stored is None and col.count() == 0:
            return
        if stored is None or {k: str(v) for k, v in stored.items()} != {
                k: str(identity[k]) for k in _EMBEDDING_KEYS}:
            was = _describe(stored) if stored else "an unrecorded embedding model"
            raise EmbeddingMismatchError(
                f"collection '{name}' was indexed with {was}, but the configured embedder is "
                f"{_describe(identity)}: re-index with `ragkit collections drop {name} && "
                f"ragkit ingest DIR -c {name}` (or set embedding.* back)")

    def delete_collection(self, name: str) -> None:
        if not self.exists(name):
            raise CollectionNotFoundError(f"collection '{name}' does not exist")
        self._client.delete_collection(name)

    # ---- writes
    def upsert(self, name: str, chunks: list[Chunk], vectors: np.ndarray) -> None:
        if not chunks:
            return
        self.collection(name, create=True).upsert(
            ids=[c.id for c in chunks], documents=[c.text for c in chunks],
            metadatas=[c.metadata for c in chunks], embeddings=vectors.tolist())

    def delete_ids(self, name: str, ids: list[str]) -> None:
        col = self.collection(name, create=True)
        for start in range(0, len(ids), _PAGE):
            col.delete(ids=ids[start:start + _PAGE])

    # ---- reads
    def all_records(self, name: str, include_embeddings: bool = False) -> list[Hit]:
        """Every chunk (paged): the BM25 index and the ingest plan are built from this."""
        col = self.collection(name)
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        out: list[Hit] = []
        offset = 0
        while True:
            page = col.get(include=include, limit=_PAGE, offset=offset)
            ids = page["ids"]
            for i, chunk_id in enumerate(ids):
                out.append(Hit(chunk_id, page["documents"][i] or "",
                               dict(page["metadatas"][i] or {}), 0.0))
            if len(ids) < _PAGE:
                return out
            offset += _PAGE

    def metadata_index(self, name: str) -> dict[str, dict[str, Any]]:
        """id -> metadata for every chunk, without the texts (cheap ingest planning)."""
        if not self.exists(name):
            return {}
        col = self.collection(name)
        out: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            page = col.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for chunk_id, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                out[chunk_id] = dict(meta or {})
            if len(page["ids"]) < _PAGE:
                return out
            offset += _PAGE

    def embeddings(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id (MMR compares BM25-only candidates without re-embedding)."""
        if not ids:
            return {}
        page = self.collection(name).get(ids=ids, include=["embeddings"])
        vectors = page["embeddings"]
        if vectors is None:
            return {}
        return {i: np.asarray(v, dtype=np.float32)
                for i, v in zip(page["ids"], vectors, strict=True)}

    def query(self, name: str, vector: np.ndarray, n: int,
              where: dict[str, Any] | None = None) -> tuple[list[Hit], np.ndarray]:
        """Nearest chunks by cosine similarity, with their embeddings (MMR needs them)."""
        # BEGIN SOLUTION: nearest chunks as Hits (similarity = 1 - cosine distance) + vectors
        col = self.collection(name)
        total = col.count()
        if total == 0:
            return [], np.zeros((0, len(vector)), dtype=np.float32)
        result = col.query(query_embeddings=[vector.tolist()], n_results=min(n, total),
                           where=where or None,
                           include=["documents", "metadatas", "distances", "embeddings"])
        ids = result["ids"][0]
        hits = [Hit(ids[i], (result["documents"] or [[]])[0][i] or "",
                    dict((result["metadatas"] or [[]])[0][i] or {}),
                    1.0 - float((result["distances"] or [[]])[0][i]))
                for i in range(len(ids))]
        embeddings = result["embeddings"]
        matrix = (np.asarray(embeddings[0], dtype=np.float32) if embeddings is not None
                  and len(ids) else np.zeros((0, len(vector)), dtype=np.float32))
        return hits, matrix
        # END SOLUTION
