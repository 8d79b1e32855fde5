"""FastAPI service: thin routes over `RagSystem` (the same object the CLI uses).

Blocking work (embedding, Chroma, generation) runs in FastAPI's thread pool; a lock serialises
model calls because one torch model instance is shared by all requests.

Access: `POST /ingest` (it reads the server's disk and writes the index) and `retrieve_only`
queries (raw chunk text, a bulk export of the corpus) need an API key from `api_keys`
(401 without or with a wrong one; 403 when the server has none configured), and ingestion
only reads folders inside `ingest_roots` (403 otherwise, symlinks resolved first).
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiinfra_shared.logging import RequestIdMiddleware
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from ragkit import __version__
from ragkit.adapters.chroma import CollectionNotFoundError, EmbeddingMismatchError, StoreError
from ragkit.config import Settings
from ragkit.generation import Answer
from ragkit.rag import QueryError, RagSystem, UnknownQueryError


class IngestRequest(BaseModel):
    path: str = Field(description="folder on the server's file system")
    collection: str | None = None


class QueryRequest(BaseModel):
    question: str
    collection: str | None = None
    k: int | None = Field(None, ge=1, le=100)
    filters: dict[str, Any] | None = None
    stream: bool = False
    retrieve_only: bool = False


class FeedbackRequest(BaseModel):
    query_id: str = Field(max_length=64, description="the query_id a /query answer returned")
    score: float = Field(ge=-1.0, le=1.0, description="-1 bad .. 1 good")
    comment: str | None = Field(None, max_length=2000)


def _http_error(exc: Exception) -> HTTPException:
    if isinstance(exc, CollectionNotFoundError):
        return HTTPException(404, str(exc))
    if isinstance(exc, QueryError):
        return HTTPException(422, str(exc))
    if isinstance(exc, FileNotFoundError):
        return HTTPException(404, str(exc))
    if isinstance(exc, UnknownQueryError):
        return HTTPException(404, str(exc))
    if isinstance(exc, EmbeddingMismatchError):
        return HTTPException(409, str(exc))
    if isinstance(exc, StoreError):
        return HTTPException(503, str(exc))
    raise exc


def _require_key(settings: Settings, authorization: str | None, x_api_key: str | None) -> None:
    """401 for a missing or wrong key, 403 when the server has no key configured at all."""
    # BEGIN SOLUTION: refuse without configured keys (403), missing/wrong key (401)
    if not settings.api_keys:
        raise HTTPException(403, "this route is disabled: the server has no api_keys "
                                 "configured (RAGKIT_API_KEYS)")
    given = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    if not given:
        raise HTTPException(401, "missing API key (Authorization: Bearer KEY or X-API-Key)",
                            headers={"WWW-Authenticate": "Bearer"})
    if not any(hmac.compare_digest(given.encode(), k.get_secret_value().encode())
               for k in settings.api_keys):
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    # END SOLUTION


def _allowed_folder(settings: Settings, raw: str) -> Path:
    """The requested folder, resolved, if it lies inside one of `ingest_roots`; else 403."""
    # BEGIN SOLUTION: resolve (symlinks, ..) first, then require a configured root above it
    path = Path(raw).expanduser().resolve()
    for root in settings.ingest_roots:
        root = root.expanduser().resolve()
        if path == root or path.is_relative_to(root):
            return path
    roots = ", ".join(str(r) for r in settings.ingest_roots) or "none configured"
    raise HTTPException(403, f"{raw}: outside the ingest roots ({roots}; ingest_roots)")
    # END SOLUTION


def create_app(settings: Settings, system: RagSystem | None = None) -> FastAPI:
    rag = system or RagSystem(settings)
    lock = threading.Lock()
    app = FastAPI(title="ragkit", version=__version__)
    app.add_middleware(RequestIdMiddleware)
    app.state.rag = rag

    @app.get("/health")
    def health() -> dict[str, Any]:
        try:
            count = len(rag.collections())
        except StoreError as exc:
            raise HTTPException(503, str(exc)) from exc
        return {"status": "ok", "collections": count, "version": __version__}

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(rag.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/collections")
    def collections() -> list[dict[str, Any]]:
        return rag.collections()

    @app.post("/ingest")
    def ingest(req: IngestRequest, authorization: str | None = Header(None),
               x_api_key: str | None = Header(None)) -> dict[str, Any]:
        _require_key(settings, authorization, x_api_key)
        folder = _allowed_folder(settings, req.path)
        try:
            with lock:
                return rag.ingest(folder, req.collection).as_dict()
        except Exception as exc:
            raise _http_error(exc) from exc

    @app.post("/query", response_model=None)
    def query(req: QueryRequest, authorization: str | None = Header(None),
              x_api_key: str | None = Header(None)) -> dict[str, Any] | StreamingResponse:
        if req.retrieve_only:
            _require_key(settings, authorization, x_api_key)
        try:
            if req.retrieve_only:
                result = rag.retrieve(req.question, req.collection, req.k, req.filters)
                return {"question": req.question, "query_id": result.query_id,
                        "max_similarity": result.max_similarity,
                        "confidence": result.confidence,
                        "low_confidence": result.low_confidence,
                        "hits": [{"id": h.id, "text": h.text, "metadata": h.metadata,
                                  "score": h.score} for h in result.hits]}
            if not req.stream:
                with lock:
                    return rag.ask(req.question, req.collection, req.k, req.filters).as_dict()
            rag.check_query(req.question)
            rag.store.collection(req.collection or settings.collection)
        except Exception as exc:
            raise _http_error(exc) from exc

        def events() -> Iterator[str]:
            # BEGIN SOLUTION: NDJSON: one token line per piece, then one answer line
            with lock:
                for item in rag.ask_stream(req.question, req.collection, req.k, req.filters):
                    if isinstance(item, Answer):
                        yield json.dumps({"type": "answer", **item.as_dict()}) + "\n"
                    else:
                        yield json.dumps({"type": "token", "text": item}) + "\n"
            # END SOLUTION

        return StreamingResponse(events(), media_type="application/x-ndjson")

    @app.post("/feedback", status_code=202)
    def feedback(req: FeedbackRequest) -> dict[str, Any]:
        try:
            record = rag.feedback(req.query_id, req.score, req.comment)
        except Exception as exc:
            raise _http_error(exc) from exc
        return {"accepted": True, "query_id": record["query_id"], "verdict": record["verdict"]}

    return app
