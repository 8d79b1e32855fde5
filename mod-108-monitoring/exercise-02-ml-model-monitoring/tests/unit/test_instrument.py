import asyncio
import contextlib

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from modelmon.instrument import (
    OTHER,
    CardinalityGuard,
    ModelMetrics,
    Prediction,
    PrometheusMiddleware,
    tag_request,
)


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    result = registry.get_sample_value(name, labels)
    return 0.0 if result is None else result


def series_count(registry: CollectorRegistry) -> int:
    return sum(len(metric.samples) for metric in registry.collect())


@pytest.mark.points(3)
def test_guard_allow_list_and_first_n() -> None:
    guard = CardinalityGuard({"model": {"churn"}}, max_values=2)
    assert guard("model", "churn") == "churn"
    assert guard("model", "evil") == OTHER
    assert [guard("route", r) for r in ("/a", "/b", "/c", "/a")] == ["/a", "/b", OTHER, "/a"]
    assert guard.overflow == {"model": 1, "route": 1}


@pytest.mark.points(2)
def test_cardinality_attack_keeps_series_bounded() -> None:
    metrics = ModelMetrics(guard=CardinalityGuard(max_values=5))
    metrics.observe_prediction("m0", "v1", 1, 0.9, {"f0": 1.0})
    baseline_after_five = None
    for i in range(1000):
        metrics.observe_request(f"model-{i}", "v1", f"/r{i}", 0.01, "success")
        metrics.observe_prediction(f"model-{i}", "v1", f"class-{i}", 0.9, {f"feat-{i}": 1.0})
        if i == 10:
            baseline_after_five = series_count(metrics.registry)
    assert baseline_after_five is not None
    assert series_count(metrics.registry) == baseline_after_five  # flat after the limit
    assert value(metrics.registry, "modelmon_requests_total", model=OTHER, version="v1",
                 outcome="success") == 1000 - 4  # m0 + 4 model-i names fit in the 5 slots
    assert value(metrics.registry, "modelmon_label_overflow_total", label="model") > 0


@pytest.mark.points(3)
def test_observe_prediction_classification_and_regression() -> None:
    metrics = ModelMetrics()
    metrics.observe_prediction("m", "v1", 1, 0.75, {"f0": 2.0, "f1": None})
    metrics.observe_prediction("r", "v1", 3.5, None, None, task="regression")
    reg = metrics.registry
    assert value(reg, "modelmon_predictions_total", model="m", version="v1", **{"class": "1"}) \
        == 1
    assert value(reg, "modelmon_prediction_confidence_bucket", model="m", version="v1",
                 le="0.8") == 1
    assert value(reg, "modelmon_prediction_confidence_bucket", model="m", version="v1",
                 le="0.7") == 0
    assert value(reg, "modelmon_feature_value_sum", model="m", version="v1", feature="f0") == 2
    assert value(reg, "modelmon_feature_missing_total", model="m", version="v1",
                 feature="f1") == 1
    assert value(reg, "modelmon_prediction_value_sum", model="r", version="v1") == 3.5


@pytest.mark.points(4)
def test_middleware_labels_by_model_route_and_outcome() -> None:
    metrics = ModelMetrics(guard=CardinalityGuard({"model": {"churn"}}))
    app = FastAPI()
    app.add_middleware(PrometheusMiddleware, metrics=metrics, default_model="churn",
                       default_version="v9")

    @app.post("/models/{name}/predict")
    async def predict(name: str, request: Request) -> dict[str, str]:
        tag_request(request, name, "v2")
        if name == "broken":
            raise HTTPException(500, "boom")
        return {"ok": name}

    @app.get("/metrics")
    async def metrics_route() -> dict[str, str]:
        return {}

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/models/churn/predict").status_code == 200
        assert client.post("/models/broken/predict").status_code == 500
        assert client.get("/nowhere").status_code == 404
        client.get("/metrics")
    reg = metrics.registry
    assert value(reg, "modelmon_requests_total", model="churn", version="v2",
                 outcome="success") == 1
    assert value(reg, "modelmon_requests_total", model=OTHER, version="v2",
                 outcome="server_error") == 1
    assert value(reg, "modelmon_requests_total", model="churn", version="v9",
                 outcome="client_error") == 1
    assert value(reg, "modelmon_request_latency_seconds_count", model="churn", version="v2",
                 route="/models/{name}/predict") == 1
    assert value(reg, "modelmon_request_latency_seconds_count", model="churn", version="v9",
                 route="unmatched") == 1
    # /metrics is skipped: three requests counted in total
    total = sum(s.value for m in reg.collect() if m.name == "modelmon_requests"
                for s in m.samples if s.name == "modelmon_requests_total")
    assert total == 3


@pytest.mark.points(2)
def test_decorator_times_calls_and_records_predictions() -> None:
    metrics = ModelMetrics()

    @metrics.instrument(model="batch", version="v1", route="score")
    async def score(x: float) -> Prediction:
        if x < 0:
            raise ValueError("negative")
        return Prediction(prediction=1, confidence=0.9, features={"x": x})

    asyncio.run(score(1.0))
    with contextlib.suppress(ValueError):
        asyncio.run(score(-1.0))
    reg = metrics.registry
    assert value(reg, "modelmon_requests_total", model="batch", version="v1",
                 outcome="success") == 1
    assert value(reg, "modelmon_requests_total", model="batch", version="v1",
                 outcome="server_error") == 1
    assert value(reg, "modelmon_predictions_total", model="batch", version="v1",
                 **{"class": "1"}) == 1
