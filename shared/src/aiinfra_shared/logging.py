"""One call configures logging for a CLI or a service.

- On a terminal: readable, coloured lines (rich).
- Otherwise, or when asked: one JSON object per line, ready for Loki/ELK/CloudWatch.
- Services: `request_id` travels in a context variable; `RequestIdMiddleware` (pure ASGI, so
  it works with FastAPI/Starlette without depending on them) sets it from the `X-Request-ID`
  header or a new UUID and echoes it in the response. Every log record carries it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import IO, Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

# Attributes every LogRecord has; anything else was passed through `extra=` and is kept.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "request_id", "taskName",
}


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` from the context variable (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, extras."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.service:
            payload["service"] = self.service
        request_id = getattr(record, "request_id", None)
        if request_id:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(
    level: str | int = "INFO",
    json_output: bool | None = None,
    stream: IO[str] | None = None,
    service: str | None = None,
) -> None:
    """Configure the root logger once (calling again replaces the previous handler).

    `json_output=None` picks JSON when `stream` is not a TTY.
    """
    stream = stream if stream is not None else sys.stderr
    if json_output is None:
        json_output = not (hasattr(stream, "isatty") and stream.isatty())
    handler: logging.Handler
    if json_output:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter(service))
    else:
        from rich.console import Console  # only needed on a TTY
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(file=stream), show_path=False,
                              rich_tracebacks=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RequestIdFilter())
    handler.set_name("aiinfra")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "aiinfra":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestIdMiddleware:
    """ASGI middleware: bind a request id for the request's logs and echo it back."""

    header = b"x-request-id"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(self.header)
        request_id = incoming.decode("latin-1")[:128] if incoming else uuid.uuid4().hex
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((self.header, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
