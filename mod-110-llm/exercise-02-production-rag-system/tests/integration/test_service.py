"""The HTTP API over a real socket (uvicorn in a thread, sharing the session's models)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from ragkit import bundled
from ragkit.service import create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def api(indexed, free_port: int) -> Iterator[httpx.Client]:
    server = uvicorn.Server(uvicorn.Config(create_app(indexed.settings, indexed),
                                           host="127.0.0.1", port=free_port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{free_port}", timeout=60) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.points(4)
def test_health_collections_query_feedback_metrics(api: httpx.Client) -> None:
    assert api.get("/health").json()["status"] == "ok"
    assert {"name": "runbooks"}.items() <= api.get("/collections").json()[0].items()

    r = api.post("/query", json={"question": "Which port should services use for PgBouncer?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sources"] and all(c["id"] == body["sources"][c["n"] - 1]["id"]
                                   for c in body["citations"])
    assert r.headers["x-request-id"]

    r = api.post("/query", json={"question": "etcd NOSPACE alarm", "retrieve_only": True,
                                 "k": 2})
    hits = r.json()["hits"]
    assert len(hits) == 2 and hits[0]["metadata"]["source"] == "runbooks/etcd-defrag.md"

    assert api.post("/feedback", json={"score": 1}).status_code == 202
    assert api.post("/feedback", json={"score": 5}).status_code == 422
    metrics = api.get("/metrics").text
    assert 'ragkit_feedback_score_count{collection="runbooks"} 1.0' in metrics
    assert "ragkit_retrieval_latency_seconds_bucket" in metrics
    assert "ragkit_generation_latency_seconds_count" in metrics
    assert "ragkit_low_confidence_total" in metrics


@pytest.mark.points(3)
def test_streaming_query(api: httpx.Client) -> None:
    with api.stream("POST", "/query", json={"question": "How do I free Kafka broker disk?",
                                            "stream": True}) as r:
        assert r.headers["content-type"].startswith("application/x-ndjson")
        events = [json.loads(line) for line in r.iter_lines() if line]
    assert events[-1]["type"] == "answer" and events[0]["type"] == "token"
    assert "".join(e["text"] for e in events[:-1]).strip()


@pytest.mark.points(2)
@pytest.mark.hidden
def test_api_errors(api: httpx.Client, tmp_path: Path) -> None:
    r = api.post("/query", json={"question": "x", "collection": "missing-one"})
    assert r.status_code == 404 and "does not exist" in r.json()["detail"]
    r = api.post("/query", json={"question": "x" * 3000})
    assert r.status_code == 422 and "query too long" in r.json()["detail"]
    r = api.post("/query", json={"question": "x" * 3000, "stream": True})
    assert r.status_code == 422
    r = api.post("/ingest", json={"path": str(tmp_path / "nowhere")})
    assert r.status_code == 404


@pytest.mark.points(2)
def test_ingest_endpoint_into_new_collection(api: httpx.Client, tmp_path: Path) -> None:
    r = api.post("/ingest", json={"path": str(bundled.CORPUS / "policies"),
                                  "collection": "policies-only"})
    assert r.status_code == 200 and len(r.json()["added"]) == 5
    names = [c["name"] for c in api.get("/collections").json()]
    assert "policies-only" in names
    r = api.post("/query", json={"question": "change freeze dates", "retrieve_only": True,
                                 "collection": "policies-only"})
    assert r.json()["hits"][0]["metadata"]["source"] == "change-freeze.txt"
