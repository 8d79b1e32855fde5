"""Alertmanager webhook receiver: records every notification and opens retraining requests.

Alertmanager POSTs its webhook payload (version 4) to /webhook/{channel}; the channel is the
route that matched (e.g. "page" for critical, "ticket" for warnings). Each alert is appended to
`alerts.jsonl`. A firing alert labelled `action="retrain"` opens a retraining request for its
model version unless one is already open, or adds its alert name to the open one's reasons;
every change to the requests is written to retraining_requests.json atomically (a restart
loses nothing).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from modelmon.predlog import JsonlWriter


class AlertPayload(BaseModel):
    status: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = None  # noqa: N815 - Alertmanager's field name
    endsAt: str | None = None  # noqa: N815
    fingerprint: str | None = None


class WebhookPayload(BaseModel):
    version: str = "4"
    status: str
    receiver: str = ""
    alerts: list[AlertPayload]
    groupLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    commonLabels: dict[str, str] = Field(default_factory=dict)  # noqa: N815


class AlertStore:
    """Alert history plus the open retraining requests, persisted under `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.alerts_path = self.data_dir / "alerts.jsonl"
        self.requests_path = self.data_dir / "retraining_requests.json"
        self._lock = threading.Lock()
        self._writer = JsonlWriter(self.alerts_path)
        self.requests: list[dict[str, Any]] = self._load_requests()

    def _load_requests(self) -> list[dict[str, Any]]:
        if not self.requests_path.exists():
            return []
        data = json.loads(self.requests_path.read_text())
        return list(data) if isinstance(data, list) else []

    def record(self, channel: str, payload: WebhookPayload) -> list[dict[str, Any]]:
        """Store the alerts; return the retraining requests this payload opened."""
        opened = []
        with self._lock:
            # BEGIN SOLUTION: log each alert; persist every change to the requests atomically
            before = json.dumps(self.requests)
            for alert in payload.alerts:
                entry = {"received_at": time.time(), "channel": channel,
                         "receiver": payload.receiver, **alert.model_dump()}
                self._writer.write(json.dumps(entry))
                if alert.status == "firing" and alert.labels.get("action") == "retrain":
                    request = self._open_request(alert)
                    if request:
                        opened.append(request)
            # a new request *or* a reason appended to an open one: both must survive a restart
            if json.dumps(self.requests) != before:
                atomic_write_json(self.requests_path, self.requests)
            # END SOLUTION
        return opened

    def _open_request(self, alert: AlertPayload) -> dict[str, Any] | None:
        # BEGIN SOLUTION: one open request per model version; append new reasons
        model = alert.labels.get("model", "unknown")
        version = alert.labels.get("version", "unknown")
        for existing in self.requests:
            if (existing["model"], existing["version"], existing["status"]) == \
                    (model, version, "open"):
                if alert.labels.get("alertname") not in existing["reasons"]:
                    existing["reasons"].append(alert.labels.get("alertname", "unknown"))
                return None
        request = {"id": uuid.uuid4().hex[:12], "model": model, "version": version,
                   "status": "open", "opened_at": time.time(),
                   "reasons": [alert.labels.get("alertname", "unknown")],
                   "summary": alert.annotations.get("summary", "")}
        self.requests.append(request)
        return request
        # END SOLUTION

    def alerts(self) -> list[dict[str, Any]]:
        if not self.alerts_path.exists():
            return []
        return [json.loads(line) for line in self.alerts_path.read_text().splitlines() if line]

    def close_request(self, request_id: str) -> dict[str, Any] | None:
        with self._lock:
            for request in self.requests:
                if request["id"] == request_id:
                    request["status"] = "closed"
                    atomic_write_json(self.requests_path, self.requests)
                    return request
        return None


def create_app(data_dir: Path) -> FastAPI:
    store = AlertStore(data_dir)
    app = FastAPI(title="modelmon alert receiver")
    app.state.store = store

    @app.post("/webhook/{channel}")
    async def webhook(channel: str, payload: WebhookPayload) -> dict[str, Any]:
        opened = store.record(channel, payload)
        return {"received": len(payload.alerts), "retraining_requests_opened": opened}

    @app.get("/alerts")
    async def alerts() -> list[dict[str, Any]]:
        return store.alerts()

    @app.get("/retraining-requests")
    async def requests() -> list[dict[str, Any]]:
        return store.requests

    @app.post("/retraining-requests/{request_id}/close")
    async def close(request_id: str) -> dict[str, Any]:
        request = store.close_request(request_id)
        if request is None:
            raise HTTPException(404, f"no retraining request {request_id!r}")
        return request

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
