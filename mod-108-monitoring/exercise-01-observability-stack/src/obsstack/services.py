"""The demo ML service, one process (or several workers) per role:

    gateway  POST /predict {"entity_id": "u-1", "tenant": "acme"}
       -> features  POST /score {"entity_id": ...}      (feature lookup span)
           -> model  POST /predict {"features": [...]}  (inference span, scikit-learn)

Every role serves `/metrics` (OpenMetrics with exemplars when asked for), `/healthz`, and
`POST /admin/faults {"error_rate": 0.5, "latency_ms": 200}` to inject failures. Each
request is traced (FastAPI and httpx instrumentation, W3C trace context and baggage across
processes), counted and timed (RED metrics, trace id as exemplar) and logged as a JSON line
with its trace and span ids.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import baggage, context, trace
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from pydantic import BaseModel, Field

from obsstack.config import Settings
from obsstack.exemplars import MultiProcessExemplarCollector
from obsstack.telemetry import MULTIPROC_ENV, RedMetrics, current_ids, setup_logging, setup_tracing

ROLES = ("gateway", "features", "model")
N_FEATURES = 8
ROLE_ENV = "OBSSTACK_ROLE"


class PredictIn(BaseModel):
    entity_id: str = Field(min_length=1, max_length=128)
    tenant: str = Field("default", min_length=1, max_length=64)


class ScoreIn(BaseModel):
    entity_id: str = Field(min_length=1, max_length=128)


class ModelIn(BaseModel):
    features: list[float] = Field(min_length=N_FEATURES, max_length=N_FEATURES)


class FaultsIn(BaseModel):
    error_rate: float = Field(0.0, ge=0, le=1)
    latency_ms: float = Field(0.0, ge=0, le=60_000)


@dataclass
class Faults:
    error_rate: float = 0.0
    latency_ms: float = 0.0


def feature_vector(entity_id: str) -> list[float]:
    """The 'feature store': deterministic features per entity (hash-seeded normals)."""
    seed = int.from_bytes(hashlib.sha256(entity_id.encode()).digest()[:8], "big")
    return [round(float(x), 6) for x in np.random.default_rng(seed).normal(size=N_FEATURES)]


def train_model(seed: int = 7) -> Any:
    """A small scikit-learn logistic regression on synthetic data (fixed seed)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2000, N_FEATURES))
    weights = rng.normal(size=N_FEATURES)
    y = (x @ weights + rng.normal(scale=0.5, size=2000) > 0).astype(int)
    return LogisticRegression(max_iter=200).fit(x, y)


def _metrics_registry() -> CollectorRegistry | None:
    """In multiprocess mode, a registry merging every worker's files and exemplars."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return None
    registry = CollectorRegistry()
    registry.register(MultiProcessExemplarCollector(directory))  # type: ignore[arg-type]
    return registry


def create_app(role: str, settings: Settings | None = None) -> FastAPI:
    """The FastAPI app of one role, instrumented as configured in `settings`."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (choose from {', '.join(ROLES)})")
    settings = settings or Settings.load(None)
    service = role
    logger = setup_logging(service, settings.log_dir)
    own_registry = CollectorRegistry()
    metrics = RedMetrics(service, registry=own_registry) if settings.metrics else None
    provider = None
    if settings.traces:
        provider = setup_tracing(
            service, settings.otlp_endpoint, sample_ratio=settings.sample_ratio,
            timeout_s=settings.otlp_timeout_s,
            on_drop=(lambda n: metrics.dropped_spans.labels(service).inc(n))
            if metrics else None)
    tracer = (provider or trace.NoOpTracerProvider()).get_tracer("obsstack")
    faults = Faults()
    app = FastAPI(title=f"obsstack {role}")
    app.state.faults = faults
    app.state.tracer_provider = provider
    app.state.registry = own_registry
    client = httpx.AsyncClient(timeout=10)
    if settings.traces:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
    model = train_model() if role == "model" else None

    @app.middleware("http")
    async def observe(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # BEGIN SOLUTION
        route = request.url.path
        if route in {"/metrics", "/healthz"}:
            return await call_next(request)
        start = time.perf_counter()
        code = 500
        token = None
        tenant = request.headers.get("x-tenant")
        if tenant and not baggage.get_baggage("tenant"):
            token = context.attach(baggage.set_baggage("tenant", tenant))
        try:
            response = await call_next(request)
            code = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - start
            trace_id, _ = current_ids()
            late_tenant = getattr(request.state, "tenant", None)  # set by the gateway
            if late_tenant and token is None:
                token = context.attach(baggage.set_baggage("tenant", late_tenant))
            if metrics is not None:
                metrics.observe(route, code, elapsed, trace_id or None)
            level = logging.ERROR if code >= 500 else logging.INFO
            if settings.logs:
                logger.log(level, "%s %s -> %d", request.method, route, code,
                           extra={"fields": {"route": route, "code": code,
                                             "duration_ms": round(elapsed * 1000, 3)}})
            if token is not None:
                context.detach(token)
        # END SOLUTION

    async def inject_faults() -> None:
        if faults.latency_ms:
            import asyncio

            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.error_rate and random.random() < faults.error_rate:  # noqa: S311
            trace.get_current_span().set_attribute("fault.injected", True)
            raise HTTPException(500, "injected fault")

    async def call(url: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await client.post(url, json=payload)
        except httpx.HTTPError as exc:
            raise HTTPException(503, f"upstream {url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            detail = response.json().get("detail", response.text) if response.content else ""
            raise HTTPException(502 if response.status_code >= 500 else response.status_code,
                                f"upstream {url}: {detail}")
        return dict(response.json())

    if role == "gateway":
        @app.post("/predict")
        async def predict(body: PredictIn, request: Request) -> dict[str, Any]:
            # BEGIN SOLUTION
            request.state.tenant = body.tenant  # for the access log line
            token = context.attach(baggage.set_baggage("tenant", body.tenant))
            try:
                span = trace.get_current_span()
                span.set_attribute("app.entity_id", body.entity_id)
                span.set_attribute("app.tenant", body.tenant)
                await inject_faults()
                result = await call(f"{settings.features_url}/score",
                                    {"entity_id": body.entity_id})
                trace_id, _ = current_ids()
                return {**result, "entity_id": body.entity_id, "trace_id": trace_id}
            finally:
                context.detach(token)
            # END SOLUTION

    if role == "features":
        @app.post("/score")
        async def score(body: ScoreIn) -> dict[str, Any]:
            # BEGIN SOLUTION
            tenant = str(baggage.get_baggage("tenant") or "")
            with tracer.start_as_current_span("feature.lookup") as span:
                features = feature_vector(body.entity_id)
                span.set_attribute("feature.entity_id", body.entity_id)
                span.set_attribute("feature.count", len(features))
                span.set_attribute("baggage.tenant", tenant)
                await inject_faults()
            return await call(f"{settings.model_url}/predict", {"features": features})
            # END SOLUTION

    if role == "model":
        @app.post("/predict")
        async def infer(body: ModelIn) -> dict[str, Any]:
            # BEGIN SOLUTION
            assert model is not None
            with tracer.start_as_current_span("model.inference") as span:
                span.set_attribute("model.name", "churn-logreg")
                span.set_attribute("model.version", settings.model_version)
                span.set_attribute("model.framework", "scikit-learn")
                span.set_attribute("baggage.tenant", str(baggage.get_baggage("tenant") or ""))
                await inject_faults()
                probability = float(model.predict_proba(np.array([body.features]))[0, 1])
                prediction = int(probability >= 0.5)
                span.set_attribute("model.prediction", prediction)
                span.set_attribute("model.probability", round(probability, 6))
            if metrics is not None:
                metrics.predictions.labels(service, settings.model_version,
                                           str(prediction)).inc()
            return {"prediction": prediction, "probability": round(probability, 6),
                    "model_version": settings.model_version}
            # END SOLUTION

    @app.post("/admin/faults")
    async def set_faults(body: FaultsIn) -> dict[str, float]:
        faults.error_rate, faults.latency_ms = body.error_rate, body.latency_ms
        logger.warning("faults set: error_rate=%s latency_ms=%s", body.error_rate,
                       body.latency_ms)
        return {"error_rate": faults.error_rate, "latency_ms": faults.latency_ms}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "role": role, "pid": str(os.getpid())}

    registry = _metrics_registry() or own_registry

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Response:
        if "application/openmetrics-text" in request.headers.get("accept", ""):
            return Response(generate_openmetrics(registry),  # type: ignore[no-untyped-call]
                            media_type=OPENMETRICS)
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        trace_id, _ = current_ids()
        return JSONResponse({"detail": exc.detail, "trace_id": trace_id},
                            status_code=exc.status_code)

    if settings.traces:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls="metrics,healthz",
                                           tracer_provider=provider,
                                           exclude_spans=["receive", "send"])
    return app


def app_from_env() -> FastAPI:
    """uvicorn factory for multi-worker mode: the role comes from $OBSSTACK_ROLE."""
    return create_app(os.environ.get(ROLE_ENV, ""), Settings.load(
        _config_path()))


def _config_path() -> Any:
    from pathlib import Path

    path = os.environ.get("OBSSTACK_CONFIG")
    return Path(path) if path else None
