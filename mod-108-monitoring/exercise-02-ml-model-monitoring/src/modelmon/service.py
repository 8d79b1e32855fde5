"""The demo model service: an instrumented FastAPI app serving the demo model.

It writes every prediction to the prediction log and every ground-truth label it receives on
/feedback to the label log (the exporter joins them later). /admin/faults injects latency and
errors on command, so alerts on p99 latency and error rate can be exercised end to end.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response
from prometheus_client import generate_latest
from pydantic import BaseModel, Field

from modelmon.config import ServiceSettings
from modelmon.demo_model import FEATURES, DemoModel
from modelmon.exporter import CONTENT_TYPE
from modelmon.instrument import CardinalityGuard, ModelMetrics, PrometheusMiddleware, tag_request
from modelmon.predlog import JsonlWriter, LabelRecord, PredictionRecord


class PredictRequest(BaseModel):
    features: dict[str, float | None]
    id: str | None = Field(default=None, max_length=128, description="client-chosen prediction id")


class PredictResponse(BaseModel):
    id: str
    model: str
    version: str
    prediction: int
    confidence: float
    score: float


class Feedback(BaseModel):
    id: str = Field(min_length=1, max_length=128)
    label: float
    value: float | None = Field(default=None, allow_inf_nan=False,
                                description="business value of the outcome (e.g. revenue)")


class Faults(BaseModel):
    latency_ms: float = Field(default=0.0, ge=0, le=60_000)
    error_rate: float = Field(default=0.0, ge=0, le=1)


def create_app(settings: ServiceSettings, seed: int | None = None) -> FastAPI:
    model = DemoModel()
    metrics = ModelMetrics(guard=CardinalityGuard(
        allowed={"model": {settings.model}, "version": {settings.version},
                 "class": {"0", "1"}, "feature": set(FEATURES)},
        max_values=settings.max_label_values,
    ))
    faults = Faults()
    rng = random.Random(seed)  # noqa: S311 - fault injection, not security
    writers: dict[str, JsonlWriter] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        writers["predictions"] = JsonlWriter(settings.prediction_log)
        writers["labels"] = JsonlWriter(settings.label_log)
        yield
        for writer in writers.values():
            writer.close()

    app = FastAPI(title="modelmon demo model service", lifespan=lifespan)
    app.add_middleware(PrometheusMiddleware, metrics=metrics,
                       default_model=settings.model, default_version=settings.version)
    app.state.metrics = metrics
    app.state.faults = faults

    @app.post("/models/{model_name}/predict", response_model=PredictResponse)
    async def predict(model_name: str, body: PredictRequest, request: Request) -> PredictResponse:
        tag_request(request, model_name, settings.version)
        if model_name != settings.model:
            raise HTTPException(404, f"unknown model {model_name!r}")
        unknown = sorted(set(body.features) - set(FEATURES))
        if unknown:
            raise HTTPException(422, f"unknown features: {', '.join(unknown)}")
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.error_rate and rng.random() < faults.error_rate:
            raise HTTPException(503, "injected error")
        features = {name: body.features.get(name) for name in FEATURES}
        label, confidence, score = model.predict(features)
        prediction_id = body.id or uuid.uuid4().hex
        writers["predictions"].write(PredictionRecord(
            id=prediction_id, ts=time.time(), model=settings.model, version=settings.version,
            features=features, prediction=label, score=round(score, 6)).to_json())
        metrics.observe_prediction(settings.model, settings.version, label, confidence,
                                   features)
        return PredictResponse(id=prediction_id, model=settings.model, version=settings.version,
                               prediction=label, confidence=confidence, score=score)

    # zero-valued series from the start: "never had traffic" is visible to Prometheus
    metrics.register_model(settings.model, settings.version,
                           routes=["/models/{model_name}/predict"])

    @app.post("/feedback", status_code=202)
    async def feedback(body: Feedback) -> dict[str, str]:
        writers["labels"].write(LabelRecord(id=body.id, ts=time.time(),
                                            label=body.label, value=body.value).to_json())
        return {"status": "accepted"}

    @app.get("/admin/faults")
    async def get_faults() -> Faults:
        return faults

    @app.post("/admin/faults")
    async def set_faults(body: Faults) -> Faults:
        faults.latency_ms = body.latency_ms
        faults.error_rate = body.error_rate
        return faults

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "model": settings.model, "version": settings.version}

    return app
