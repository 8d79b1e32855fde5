from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from modelmon.receiver import create_app


def payload(status: str = "firing", alertname: str = "ModelFeatureDrift",
            action: str | None = "retrain") -> dict[str, Any]:
    labels = {"alertname": alertname, "model": "churn", "version": "v1", "severity": "warning"}
    if action:
        labels["action"] = action
    return {"version": "4", "status": status, "receiver": "ticket",
            "alerts": [{"status": status, "labels": labels,
                        "annotations": {"summary": "drifted"}, "fingerprint": "abc"}]}


@pytest.mark.points(3)
def test_records_alerts_and_opens_one_retraining_request(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path)) as client:
        first = client.post("/webhook/ticket", json=payload()).json()
        assert len(first["retraining_requests_opened"]) == 1
        again = client.post("/webhook/page", json=payload(alertname="ModelAccuracyDrop")).json()
        assert again["retraining_requests_opened"] == []  # one open request per version
        client.post("/webhook/ticket", json=payload(alertname="ModelHighLatencyP99",
                                                    action=None))
        client.post("/webhook/ticket", json=payload(status="resolved"))
        alerts = client.get("/alerts").json()
        requests = client.get("/retraining-requests").json()
    assert [a["channel"] for a in alerts] == ["ticket", "page", "ticket", "ticket"]
    assert [a["status"] for a in alerts][-1] == "resolved"
    assert len(requests) == 1
    assert requests[0]["reasons"] == ["ModelFeatureDrift", "ModelAccuracyDrop"]
    # persisted: a restarted receiver still knows the open request
    with TestClient(create_app(tmp_path)) as client:
        assert client.get("/retraining-requests").json()[0]["id"] == requests[0]["id"]
        closed = client.post(f"/retraining-requests/{requests[0]['id']}/close")
        assert closed.json()["status"] == "closed"
        assert client.post("/retraining-requests/zzz/close").status_code == 404
        reopened = client.post("/webhook/ticket", json=payload()).json()
        assert len(reopened["retraining_requests_opened"]) == 1


@pytest.mark.points(1)
@pytest.mark.hidden
def test_rejects_payload_that_is_not_alertmanager(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path)) as client:
        assert client.post("/webhook/ticket", json={"hello": 1}).status_code == 422


@pytest.mark.points(2)
def test_every_update_survives_a_restart(tmp_path: Path) -> None:
    """A reason added to an open request, and a closed request, are on disk at once."""
    with TestClient(create_app(tmp_path)) as client:
        client.post("/webhook/ticket", json=payload())
        client.post("/webhook/page", json=payload(alertname="ModelAccuracyDrop"))
    with TestClient(create_app(tmp_path)) as client:  # restarted receiver
        [request] = client.get("/retraining-requests").json()
        assert request["reasons"] == ["ModelFeatureDrift", "ModelAccuracyDrop"]
        client.post(f"/retraining-requests/{request['id']}/close")
    assert not list(tmp_path.glob("*.tmp*"))  # atomic writes leave no temporary files
    with TestClient(create_app(tmp_path)) as client:
        assert client.get("/retraining-requests").json()[0]["status"] == "closed"
