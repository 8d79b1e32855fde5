"""The demo services as FastAPI apps: one factory, three roles.

- `gateway`  POST /predict -> its outbound sidecar -> model (forwards `x-*` headers, so header
  routes work) - the edge: plain HTTP from users, no caller identity to check;
- `model`    POST /predict -> its outbound sidecar -> features; v1 and v2 score differently;
- `features` GET /features/{entity}.

Each request gets a SERVER span continuing the caller's W3C trace, and each upstream call a
CLIENT span; RED metrics per service and version; error-rate and latency knobs (changed at
run time on the admin app) make a bad canary on demand. Behind mTLS the caller's SPIFFE ID
(from its verified client certificate) must be one the AuthorizationPolicy allows, or the
answer is 403 `RBAC: access denied`, as Istio's sidecar would answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field

from meshobs.demo.peers import PeerTable
from meshobs.demo.tracing import extract_context, inject_headers

Role = Literal["gateway", "model", "features"]
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_MODEL_WEIGHTS = {"v1": (0.8, -0.4, 0.3, 0.1), "v2": (0.9, -0.5, 0.2, 0.2)}


class Faults(BaseModel):
    """Knobs for a misbehaving version: share of 500s and added latency."""

    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: float = Field(default=0.0, ge=0.0, le=60_000)


class PredictRequest(BaseModel):
    entity: str = Field(min_length=1, max_length=200)


@dataclass
class ServiceConfig:
    role: Role
    version: str
    upstream: str | None = None  # base URL of this workload's outbound sidecar listener
    allowed_callers: list[str] | None = None  # SPIFFE IDs; None: no identity check (edge)
    faults: Faults = field(default_factory=Faults)
    upstream_timeout: float = 5.0


class Metrics:
    """RED metrics of one workload, plus its certificate's expiry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter("meshobs_requests", "Requests served, by status code",
                                ["service", "version", "code"], registry=registry)
        self.duration = Histogram("meshobs_request_duration_seconds",
                                  "Request latency as served (faults included)",
                                  ["service", "version"], buckets=LATENCY_BUCKETS,
                                  registry=registry)
        self.cert_expiry = Gauge("meshobs_workload_cert_expiry_timestamp_seconds",
                                 "When the workload certificate in use expires",
                                 ["service", "spiffe_id"], registry=registry)
        self.rotations = Counter("meshobs_workload_cert_rotations",
                                 "Workload certificates renewed before expiry",
                                 ["service"], registry=registry)
        self.denied = Counter("meshobs_authz_denied", "Requests refused by authorization",
                              ["service", "principal"], registry=registry)


def features_of(entity: str) -> list[float]:
    """Deterministic pseudo-features of an entity (the feature store of the demo)."""
    digest = hashlib.sha256(entity.encode()).digest()
    return [round(b / 255.0, 4) for b in digest[:4]]


def score(version: str, features: list[float]) -> float:
    weights = _MODEL_WEIGHTS.get(version, _MODEL_WEIGHTS["v1"])
    z = sum(w * f for w, f in zip(weights, features, strict=False))
    return round(1.0 / (1.0 + math.exp(-z)), 6)


def caller_identity(peer_cert: dict[str, Any] | None) -> str | None:
    """The SPIFFE ID in a verified peer certificate (`ssl.getpeercert()` form)."""
    if not peer_cert:
        return None
    for kind, value in peer_cert.get("subjectAltName", ()):
        if kind == "URI" and str(value).startswith("spiffe://"):
            return str(value)
    return None


def create_app(config: ServiceConfig, provider: TracerProvider, metrics: Metrics,
               peers: PeerTable | None = None, rng: random.Random | None = None) -> FastAPI:
    """The workload's main app (served on its mTLS port, or plain HTTP for the gateway)."""
    client = httpx.AsyncClient(base_url=config.upstream or "http://invalid",
                               timeout=config.upstream_timeout)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(title=f"meshobs {config.role} {config.version}", docs_url=None,
                  redoc_url=None, openapi_url=None, lifespan=lifespan)
    tracer = provider.get_tracer("meshobs.demo")
    rng = rng or random.Random()  # noqa: S311 - fault injection, not security
    labels = {"service": config.role, "version": config.version}

    @app.middleware("http")
    async def mesh_middleware(request: Request,
                              call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # BEGIN SOLUTION
        start = time.perf_counter()
        if config.allowed_callers is not None:
            client_addr = request.scope.get("client")
            peer = peers.lookup(client_addr) if peers is not None else None
            principal = caller_identity(peer)
            if principal not in config.allowed_callers:
                metrics.denied.labels(config.role, principal or "none").inc()
                metrics.requests.labels(code="403", **labels).inc()
                return JSONResponse({"error": "RBAC: access denied",
                                     "principal": principal}, status_code=403)
        context = extract_context(request.headers)
        name = f"{request.method} {request.url.path}"
        with tracer.start_as_current_span(
                name, context=context, kind=SpanKind.SERVER,  # type: ignore[arg-type]
                attributes={"http.request.method": request.method,
                            "url.path": request.url.path,
                            "service.version": config.version}) as span:
            faults = config.faults
            if request.url.path != "/healthz":
                if faults.latency_ms > 0:
                    await asyncio.sleep(faults.latency_ms / 1000)
                if faults.error_rate > 0 and rng.random() < faults.error_rate:
                    response: Response = JSONResponse(
                        {"error": "injected fault", "version": config.version},
                        status_code=500)
                else:
                    response = await call_next(request)
            else:
                response = await call_next(request)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {response.status_code}"))
        metrics.requests.labels(code=str(response.status_code), **labels).inc()
        metrics.duration.labels(**labels).observe(time.perf_counter() - start)
        return response
        # END SOLUTION

    async def call_upstream(method: str, path: str, span_name: str,
                            headers: dict[str, str], json: Any = None) -> httpx.Response:
        """One CLIENT span around the call to the outbound sidecar, trace context injected."""
        with tracer.start_as_current_span(span_name, kind=SpanKind.CLIENT,
                                          attributes={"http.request.method": method,
                                                      "url.path": path}) as span:
            inject_headers(headers)
            try:
                upstream = await client.request(method, path, headers=headers, json=json)
            except httpx.HTTPError as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            span.set_attribute("http.response.status_code", upstream.status_code)
            if upstream.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {upstream.status_code}"))
            return upstream

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": config.role, "version": config.version}

    if config.role == "features":
        @app.get("/features/{entity}")
        async def get_features(entity: str) -> dict[str, Any]:
            return {"entity": entity, "features": features_of(entity)}

    if config.role == "model":
        @app.post("/predict")
        async def predict(body: PredictRequest) -> Response:
            try:
                upstream = await call_upstream("GET", f"/features/{body.entity}",
                                               "GET features", {})
            except httpx.HTTPError as exc:
                return JSONResponse({"error": f"features unreachable: {exc}"}, 502)
            if upstream.status_code != 200:
                return JSONResponse({"error": "features failed",
                                     "upstream_status": upstream.status_code}, 502)
            feats = upstream.json()["features"]
            return JSONResponse({"entity": body.entity, "score": score(config.version, feats),
                                 "model_version": config.version})

    if config.role == "gateway":
        @app.post("/predict")
        async def gateway_predict(body: PredictRequest, request: Request) -> Response:
            forward = {k: v for k, v in request.headers.items() if k.startswith("x-")}
            try:
                upstream = await call_upstream("POST", "/predict", "POST model", forward,
                                               json=body.model_dump())
            except httpx.HTTPError as exc:
                return JSONResponse({"error": f"model unreachable: {exc}"}, 502)
            try:
                payload = upstream.json()
            except ValueError:
                payload = {"error": upstream.text[:200]}
            return JSONResponse(payload, status_code=upstream.status_code)

    return app


def create_admin_app(config: ServiceConfig, metrics: Metrics) -> FastAPI:
    """The workload's plain-HTTP admin port (like a sidecar's 15000/15020): metrics, health,
    fault knobs. Loopback only; never the data path."""
    app = FastAPI(title=f"meshobs {config.role} admin", docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return PlainTextResponse(generate_latest(metrics.registry),
                                 media_type=CONTENT_TYPE_LATEST)

    @app.get("/admin/faults")
    async def get_faults() -> Faults:
        return config.faults

    @app.put("/admin/faults")
    async def set_faults(faults: Faults) -> Faults:
        config.faults = faults
        return faults

    return app
