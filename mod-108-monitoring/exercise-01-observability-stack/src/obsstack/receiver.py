"""Alertmanager webhook receiver: keeps every notification (persisted atomically) and
lists them at GET /alerts. Pages and tickets arrive on their own paths."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json
from fastapi import FastAPI, HTTPException, Request


class AlertLog:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.notifications: list[dict[str, Any]] = []
        if path is not None and path.exists():
            self.notifications = list(json.loads(path.read_text()))

    def add(self, receiver: str, payload: dict[str, Any]) -> None:
        with self._lock:
            for alert in payload.get("alerts", []):
                self.notifications.append({
                    "receiver": receiver, "status": alert.get("status"),
                    "labels": alert.get("labels", {}),
                    "annotations": alert.get("annotations", {}),
                    "startsAt": alert.get("startsAt"),
                })
            if self.path is not None:
                atomic_write_json(self.path, self.notifications)


def create_receiver_app(path: Path | None = None) -> FastAPI:
    app = FastAPI(title="obsstack alert receiver")
    alerts = AlertLog(path)
    app.state.alerts = alerts

    @app.post("/webhook/{receiver}")
    async def webhook(receiver: str, request: Request) -> dict[str, int]:
        try:
            payload = await request.json()
        except ValueError:
            raise HTTPException(400, "body is not JSON") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
            raise HTTPException(422, "not an Alertmanager webhook payload (no alerts list)")
        alerts.add(receiver, payload)
        return {"received": len(payload["alerts"])}

    @app.get("/alerts")
    async def list_alerts() -> list[dict[str, Any]]:
        return list(alerts.notifications)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
