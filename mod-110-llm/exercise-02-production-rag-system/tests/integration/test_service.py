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
from pydantic import SecretStr

from ragkit import bundled
from ragkit.config import Settings
from ragkit.service import create_app

pytestmark = pytest.mark.integration
KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _serve_settings(indexed, root: Path,  # type: ignore[no-untyped-def]
                    **overrides: object) -> Settings:
    values: dict[str, object] = {"api_keys": [SecretStr(KEY)],
                                 "ingest_roots": [bundled.CORPUS, root]}
    values.update(overrides)
    return indexed.settings.model_copy(update=values)  # type: ignore[no-any-return]


@pytest.fixture
def api(indexed, free_port: int, request: pytest.FixtureRequest,
        tmp_path: Path) -> Iterator[httpx.Client]:
    """The service on loopback; ingestion allowed from the bundled corpus and tmp/allowed."""
    overrides = getattr(request, "param", {})
    (tmp_path / "allowed").mkdir()
    app = create_app(_serve_settings(indexed, tmp_path / "allowed", **overrides), indexed)
    server = uvicorn.Server(uvicorn.Config(app,
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
                                 "k": 2}, headers=AUTH)
    hits = r.json()["hits"]
    assert len(hits) == 2 and hits[0]["metadata"]["source"] == "runbooks/etcd-defrag.md"

    query_id = body["query_id"]
    assert api.post("/feedback", json={"query_id": query_id, "score": 1}).status_code == 202
    assert api.post("/feedback", json={"query_id": query_id, "score": 5}).status_code == 422
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
    r = api.post("/ingest", json={"path": str(bundled.CORPUS / "nowhere")}, headers=AUTH)
    assert r.status_code == 404


@pytest.mark.points(2)
def test_ingest_endpoint_into_new_collection(api: httpx.Client, tmp_path: Path) -> None:
    r = api.post("/ingest", json={"path": str(bundled.CORPUS / "policies"),
                                  "collection": "policies-only"}, headers=AUTH)
    assert r.status_code == 200 and len(r.json()["added"]) == 5
    names = [c["name"] for c in api.get("/collections").json()]
    assert "policies-only" in names
    r = api.post("/query", json={"question": "change freeze dates", "retrieve_only": True,
                                 "collection": "policies-only"}, headers={"X-API-Key": KEY})
    assert r.json()["hits"][0]["metadata"]["source"] == "change-freeze.txt"


@pytest.mark.points(4)
def test_ingest_and_raw_chunks_need_a_key_and_an_allowed_root(api: httpx.Client, indexed,
                                                             tmp_path: Path) -> None:
    policies = {"path": str(bundled.CORPUS / "policies"), "collection": "policies-auth"}
    r = api.post("/ingest", json=policies)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "missing API key" in r.json()["detail"]
    r = api.post("/ingest", json=policies, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["detail"] == "invalid API key"
    r = api.post("/query", json={"question": "change freeze", "retrieve_only": True})
    assert r.status_code == 401  # raw chunk text is a bulk export of the corpus

    for path in ("/etc/passwd", "/etc", str(bundled.CORPUS / ".." / ".." / ".."),
                 str(tmp_path)):
        r = api.post("/ingest", json={"path": path, "collection": "leak"}, headers=AUTH)
        assert r.status_code == 403, (path, r.text)
        assert "outside the ingest roots" in r.json()["detail"]
    link = tmp_path / "allowed" / "etc-link"
    link.symlink_to("/etc")  # a symlink inside an allowed root must not lead out of it
    r = api.post("/ingest", json={"path": str(link)}, headers=AUTH)
    assert r.status_code == 403
    r = api.post("/ingest", json={"path": str(tmp_path / "allowed" / ".." / "allowed"),
                                  "collection": "empty-ok"}, headers=AUTH)
    assert r.status_code == 200  # inside the root after normalisation: allowed (and empty)
    indexed.store.delete_collection("empty-ok")
    assert "leak" not in [c["name"] for c in api.get("/collections").json()]


@pytest.mark.points(1)
@pytest.mark.hidden
@pytest.mark.parametrize("api", [{"api_keys": []}], indirect=True)
def test_write_routes_are_refused_without_configured_keys(api: httpx.Client) -> None:
    r = api.post("/ingest", json={"path": str(bundled.CORPUS / "policies")},
                 headers=AUTH)
    assert r.status_code == 403 and "no api_keys configured" in r.json()["detail"]
    r = api.post("/query", json={"question": "x", "retrieve_only": True}, headers=AUTH)
    assert r.status_code == 403


@pytest.mark.points(3)
def test_feedback_is_stored_with_its_query_id(api: httpx.Client, indexed) -> None:
    answered = api.post("/query", json={"question": "How do I roll back a deploy?"}).json()
    streamed = [json.loads(line) for line in api.post(
        "/query", json={"question": "How do I roll back a deploy?", "stream": True}
    ).text.splitlines() if line][-1]
    raw = api.post("/query", json={"question": "rollback", "retrieve_only": True},
                   headers=AUTH).json()
    ids = {answered["query_id"], streamed["query_id"], raw["query_id"]}
    assert len(ids) == 3 and all(len(i) == 32 for i in ids)  # one fresh id per query

    assert api.post("/feedback", json={"query_id": answered["query_id"], "score": -1,
                                       "comment": "wrong runbook"}).status_code == 202
    r = api.post("/feedback", json={"query_id": streamed["query_id"], "score": 0.5})
    assert r.json() == {"accepted": True, "query_id": streamed["query_id"],
                        "verdict": "positive"}
    r = api.post("/feedback", json={"query_id": "0" * 32, "score": 1})
    assert r.status_code == 404 and "unknown query_id" in r.json()["detail"]
    r = api.post("/feedback", json={"score": 1})
    assert r.status_code == 422  # feedback without a query cannot be linked to anything

    stored = [json.loads(line) for line in
              (indexed.settings.data_dir / "feedback.jsonl").read_text().splitlines()]
    mine = {rec["query_id"]: rec for rec in stored if rec["query_id"] in ids}
    assert mine[answered["query_id"]]["verdict"] == "negative"
    assert mine[answered["query_id"]]["comment"] == "wrong runbook"
    assert mine[streamed["query_id"]]["score"] == 0.5
    metrics = api.get("/metrics").text
    assert 'ragkit_feedback_total{collection="runbooks",verdict="negative"}' in metrics
    assert 'ragkit_feedback_total{collection="runbooks",verdict="positive"}' in metrics
