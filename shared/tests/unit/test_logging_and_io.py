from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from aiinfra_shared.io import atomic_write_json, atomic_write_text
from aiinfra_shared.logging import RequestIdMiddleware, configure_logging, request_id_var


def test_json_lines_when_not_a_tty() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, service="svc")
    logging.getLogger("t").info("ready", extra={"port": 8000})
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["message"] == "ready" and record["port"] == 8000
    assert record["service"] == "svc" and record["level"] == "info"
    assert "request_id" not in record


def test_middleware_binds_and_echoes_request_id() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, json_output=True)
    seen: list[str | None] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(request_id_var.get())
        logging.getLogger("app").info("handling")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    scope = {"type": "http", "headers": [(b"x-request-id", b"abc-123")]}
    asyncio.run(RequestIdMiddleware(app)(scope, receive, send))
    assert seen == ["abc-123"]
    assert (b"x-request-id", b"abc-123") in sent[0]["headers"]
    assert json.loads(stream.getvalue().splitlines()[-1])["request_id"] == "abc-123"
    assert request_id_var.get() is None  # reset after the request

    sent.clear()
    asyncio.run(RequestIdMiddleware(app)({"type": "http", "headers": []}, receive, send))
    generated = dict(sent[0]["headers"])[b"x-request-id"]
    assert len(generated) == 32


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "data.json"
    atomic_write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["data.json"]


def test_atomic_write_failure_leaves_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "data.json"
    target.write_text("old")

    def disk_full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("aiinfra_shared.io.os.fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(target, "new content")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]  # temp file cleaned up
