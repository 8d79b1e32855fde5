"""FastAPI service: thin routes over `RagSystem` (the same object the CLI uses).

Blocking work (embedding, Chroma, generation) runs in FastAPI's thread pool; a lock serialises
model calls because one torch model instance is shared by all requests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiinfra_shared.logging import RequestIdMiddleware
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from ragkit import __version__
from ragkit.adapters.chroma import CollectionNotFoundError, StoreError
from ragkit.config import Settings
from ragkit.generation import Answer
from ragkit.rag import QueryError, RagSystem


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
    score: float = Field(ge=-1.0, le=1.0, description="-1 bad .. 1 good")
    collection: str | None = None
    query_id: str | None = None
    comment: str | None = Field(None, max_length=2000)


def _http_error(exc: Exception) -> HTTPException:
    if isinstance(exc, CollectionNotFoundError):
        return HTTPException(404, str(exc))
    if isinstance(exc, QueryError):
        return HTTPException(422, str(exc))
    if isinstance(exc, FileNotFoundError):
        return HTTPException(404, str(exc))
    if isinstance(exc, StoreError):
        return HTTPException(503, str(exc))
    raise exc


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
    def ingest(req: IngestRequest) -> dict[str, Any]:
        try:
            with lock:
                return rag.ingest(Path(req.path), req.collection).as_dict()
        except Exception as exc:
            raise _http_error(exc) from exc

    @app.post("/query", response_model=None)
    def query(req: QueryRequest) -> dict[str, Any] | StreamingResponse:
        try:
            if req.retrieve_only:
                result = rag.retrieve(req.question, req.collection, req.k, req.filters)
                return {"question": req.question, "max_similarity": result.max_similarity,
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
        rag.feedback(req.collection or settings.collection, req.score)
        return {"accepted": True}

    return app
