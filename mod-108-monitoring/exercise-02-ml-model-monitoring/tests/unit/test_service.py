from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from modelmon.config import ServiceSettings
from modelmon.instrument import OTHER
from modelmon.predlog import parse_label, parse_prediction
from modelmon.service import create_app


def make_client(tmp_path: Path) -> TestClient:
    settings = ServiceSettings(prediction_log=tmp_path / "p.jsonl",
                               label_log=tmp_path / "l.jsonl")
    return TestClient(create_app(settings, seed=1))


@pytest.mark.points(2)
def test_predict_logs_prediction_and_feedback_logs_label(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        response = client.post("/models/churn/predict",
                               json={"features": {"f0": 2.0, "f1": None}, "id": "abc"})
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == "abc" and body["prediction"] == 1 and body["confidence"] > 0.5
        assert client.post("/feedback", json={"id": "abc", "label": 0}).status_code == 202
        metrics = client.get("/metrics").text
    record = parse_prediction((tmp_path / "p.jsonl").read_text().splitlines()[0])
    assert record.features["f1"] is None and record.features["f4"] is None
    assert record.prediction == 1 and record.model == "churn"
    assert parse_label((tmp_path / "l.jsonl").read_text().strip()).label == 0
    assert 'modelmon_predictions_total{class="1",model="churn",version="v1"} 1.0' in metrics
    assert 'modelmon_feature_missing_total{feature="f1",model="churn",version="v1"} 1.0' \
        in metrics


@pytest.mark.points(1)
@pytest.mark.hidden
def test_unknown_model_and_feature_are_client_errors(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        assert client.post("/models/nope/predict", json={"features": {}}).status_code == 404
        bad = client.post("/models/churn/predict", json={"features": {"zzz": 1}})
        assert bad.status_code == 422 and "zzz" in bad.text
        metrics = client.get("/metrics").text
    assert f'modelmon_requests_total{{model="{OTHER}",outcome="client_error",version="v1"}} 1.0' \
        in metrics
    assert not (tmp_path / "p.jsonl").read_text()


@pytest.mark.points(1)
def test_fault_injection(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        assert client.post("/admin/faults", json={"error_rate": 1.0}).json()["error_rate"] == 1
        assert client.post("/models/churn/predict", json={"features": {}}).status_code == 503
        assert client.post("/admin/faults", json={"error_rate": 2}).status_code == 422
        client.post("/admin/faults", json={"error_rate": 0, "latency_ms": 0})
        assert client.post("/models/churn/predict", json={"features": {}}).status_code == 200
        metrics = client.get("/metrics").text
    assert 'modelmon_requests_total{model="churn",outcome="server_error",version="v1"} 1.0' \
        in metrics


@pytest.mark.points(1)
def test_request_series_exist_before_the_first_request(tmp_path: Path) -> None:
    """A freshly started service exports zero-valued request series for its model version,
    so `rate(...) == 0` (ModelNoTraffic) can fire when no request ever arrives."""
    with make_client(tmp_path) as client:
        metrics = client.get("/metrics").text
    for outcome in ("success", "client_error", "server_error"):
        assert (f'modelmon_requests_total{{model="churn",outcome="{outcome}",version="v1"}} 0.0'
                in metrics), outcome
    assert 'modelmon_request_latency_seconds_count{model="churn",route="/models/{model_name}/' \
           'predict",version="v1"} 0.0' in metrics


@pytest.mark.points(1)
def test_feedback_carries_the_outcome_value(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        assert client.post("/feedback", json={"id": "a", "label": 0, "value": 30.5}
                           ).status_code == 202
        assert client.post("/feedback", json={"id": "b", "label": 1}).status_code == 202
        assert client.post("/feedback", json={"id": "c", "label": 1, "value": "lots"}
                           ).status_code == 422
    first, second = (parse_label(line) for line in
                     (tmp_path / "l.jsonl").read_text().splitlines())
    assert (first.id, first.value) == ("a", 30.5)
    assert (second.id, second.value) == ("b", None)
