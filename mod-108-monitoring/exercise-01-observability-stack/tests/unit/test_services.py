"""The service apps in process (ASGI): predictions, validation, faults, upstream failures,
and an OTLP endpoint that is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiinfra_shared.procs.ports import free_port
from fastapi.testclient import TestClient

from obsstack.config import Settings
from obsstack.services import create_app, feature_vector


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings.load(None, log_dir=tmp_path / "logs", **kw)


@pytest.fixture(scope="module")
def model_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("model")
    return TestClient(create_app("model", _settings(tmp, traces=False)))


@pytest.mark.points(3)
def test_model_predicts_and_counts_by_class(model_client: TestClient) -> None:
    features = feature_vector("user-1")
    assert features == feature_vector("user-1") and len(features) == 8
    response = model_client.post("/predict", json={"features": features})
    assert response.status_code == 200
    body = response.json()
    assert body["prediction"] in (0, 1) and 0 <= body["probability"] <= 1
    assert body["prediction"] == int(body["probability"] >= 0.5)
    registry = model_client.app.state.registry  # type: ignore[attr-defined]
    assert registry.get_sample_value("obsstack_model_predictions_total", {
        "service": "model", "model_version": "v1",
        "prediction": str(body["prediction"])}) == 1


@pytest.mark.points(2)
def test_bad_input_is_a_client_error(model_client: TestClient) -> None:
    assert model_client.post("/predict", json={"features": [1.0]}).status_code == 422
    assert model_client.post("/admin/faults", json={"error_rate": 2}).status_code == 422


@pytest.mark.points(3)
def test_injected_faults_fail_requests_and_clear(model_client: TestClient) -> None:
    features = feature_vector("user-2")
    assert model_client.post("/admin/faults", json={"error_rate": 1}).status_code == 200
    failed = model_client.post("/predict", json={"features": features})
    assert failed.status_code == 500 and failed.json()["detail"] == "injected fault"
    model_client.post("/admin/faults", json={"error_rate": 0, "latency_ms": 0})
    assert model_client.post("/predict", json={"features": features}).status_code == 200
    text = model_client.get("/metrics").text
    assert 'obsstack_http_requests_total{code="500",route="/predict",service="model"} 1.0' in text


@pytest.mark.points(3)
def test_unreachable_upstream_is_a_503_with_one_line(tmp_path: Path) -> None:
    settings = _settings(tmp_path, traces=False,
                         features_url=f"http://127.0.0.1:{free_port()}")
    client = TestClient(create_app("gateway", settings))
    response = client.post("/predict", json={"entity_id": "u1"})
    assert response.status_code == 503
    assert "unreachable" in response.json()["detail"]
    assert "\n" not in response.json()["detail"]
    line = json.loads((tmp_path / "logs" / "gateway.log").read_text().splitlines()[-1])
    assert line["level"] == "error" and line["code"] == 503 and line["route"] == "/predict"


@pytest.mark.points(5)
def test_collector_down_the_service_keeps_serving_and_counts_drops(tmp_path: Path) -> None:
    settings = _settings(tmp_path, otlp_endpoint=f"http://127.0.0.1:{free_port()}",
                         otlp_timeout_s=0.5)
    app = create_app("model", settings)
    client = TestClient(app)
    for i in range(3):
        response = client.post("/predict", json={"features": feature_vector(f"u{i}")})
        assert response.status_code == 200
    provider = app.state.tracer_provider
    provider.force_flush(5000)
    dropped = app.state.registry.get_sample_value(
        "obsstack_telemetry_dropped_spans_total", {"service": "model"})
    assert dropped is not None and dropped >= 6  # server + inference span per request
    # the log lines still carry trace ids (spans are recorded, only the export failed)
    lines = [json.loads(x) for x in (tmp_path / "logs" / "model.log").read_text().splitlines()]
    assert all(len(x["trace_id"]) == 32 for x in lines if x.get("route") == "/predict")
    provider.shutdown()


@pytest.mark.points(1)
def test_unknown_role_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        create_app("cache", _settings(tmp_path))
