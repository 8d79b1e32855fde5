"""`meshobs traces serve`: an OTLP/HTTP + Zipkin v2 trace collector with a small query API.

POST /v1/traces      OTLP/HTTP protobuf (what every OpenTelemetry SDK's http exporter sends)
POST /api/v2/spans   Zipkin JSON v2
GET  /api/graph?window=60         service graph edges (rate, errors, p95)
GET  /api/traces                  recent traces
GET  /api/traces/{id}             one trace's spans
GET  /api/traces/{id}/critical-path
POST /api/sampling/run            apply tail sampling now (it also runs every second)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from meshobs.traces import graph
from meshobs.traces.decode import DecodeError, decode_otlp, decode_zipkin
from meshobs.traces.sampling import TailPolicy
from meshobs.traces.store import TraceStore


def create_app(store: TraceStore, policy: TailPolicy, sample_every: float | None = 1.0
               ) -> FastAPI:
    registry = CollectorRegistry()
    received = Counter("meshobs_collector_spans", "Spans received", ["format"],
                       registry=registry)
    rejected = Counter("meshobs_collector_rejected", "Payloads rejected", ["format"],
                       registry=registry)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = None
        if sample_every:
            async def loop() -> None:
                while True:
                    await asyncio.sleep(sample_every)
                    await asyncio.to_thread(store.apply_tail_sampling, policy)

            task = asyncio.create_task(loop())
        yield
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="meshobs trace collector", lifespan=lifespan)

    @app.post("/v1/traces")
    async def otlp(request: Request) -> Response:
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        if "json" in content_type:
            rejected.labels("otlp").inc()
            raise HTTPException(415, "only application/x-protobuf OTLP bodies are accepted")
        try:
            spans = decode_otlp(body)
        except DecodeError as exc:
            rejected.labels("otlp").inc()
            raise HTTPException(400, str(exc)) from exc
        await asyncio.to_thread(store.ingest, spans)
        received.labels("otlp").inc(len(spans))
        # An empty ExportTraceServiceResponse (all accepted) is an empty protobuf body.
        return Response(b"", media_type="application/x-protobuf")

    @app.post("/api/v2/spans", status_code=202)
    async def zipkin(request: Request) -> Response:
        try:
            spans = decode_zipkin(await request.body())
        except DecodeError as exc:
            rejected.labels("zipkin").inc()
            raise HTTPException(400, str(exc)) from exc
        await asyncio.to_thread(store.ingest, spans)
        received.labels("zipkin").inc(len(spans))
        return Response(status_code=202)

    @app.get("/api/graph")
    def service_graph(window: float = 300.0) -> dict[str, Any]:
        if window <= 0:
            raise HTTPException(400, "window must be > 0 seconds")
        return {"window_seconds": window,
                "edges": [asdict(e) for e in store.service_graph(window)]}

    @app.get("/api/traces")
    def traces(limit: int = 50) -> dict[str, Any]:
        counts = store.counts()
        return {"traces": store.trace_ids(limit), "stored_spans": counts["spans"],
                "stored_traces": counts["traces"], "decisions": counts["decisions"]}

    @app.get("/api/traces/{trace_id}")
    def trace(trace_id: str) -> dict[str, Any]:
        spans = store.trace(trace_id)
        if not spans:
            raise HTTPException(404, f"no trace {trace_id}")
        return {"trace_id": trace_id, "spans": [asdict(s) for s in spans]}

    @app.get("/api/traces/{trace_id}/critical-path")
    def path(trace_id: str) -> dict[str, Any]:
        spans = store.trace(trace_id)
        if not spans:
            raise HTTPException(404, f"no trace {trace_id}")
        return {"trace_id": trace_id,
                "path": [asdict(p) for p in graph.critical_path(spans)]}

    @app.post("/api/sampling/run")
    def run_sampling() -> dict[str, int]:
        return store.apply_tail_sampling(policy)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
