"""A tiny HTTP proxy in front of the real MLflow server, for fault injection in tests.

Every request is forwarded unchanged; `hook(request)` runs first and may block (to hold a
request while the test does something else) or return "drop" (the request is not forwarded
and the client's connection is closed without an answer, as when a process dies or a network
cuts out) or "lose" (forwarded, so the server acts on it, but the answer never reaches the
client: a timeout after the fact). `after(request, status)` runs once the upstream answered.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Request:
    method: str
    path: str
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def is_api(self, method: str, endpoint: str) -> bool:
        return self.method == method and self.path.split("?")[0].endswith(
            f"/mlflow/{endpoint}")


Hook = Callable[[Request], str | None]
After = Callable[[Request, int], None]


@contextmanager
def proxy(upstream: str, hook: Hook | None = None, after: After | None = None
          ) -> Iterator[str]:
    """Run a proxy to `upstream` on a free port; yield its URL."""
    client = httpx.Client(base_url=upstream, timeout=120)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(self.command, self.path, self.rfile.read(length))
            action = hook(request) if hook is not None else None
            if action == "drop":
                self.close_connection = True
                return
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "content-length", "connection")}
            response = client.request(request.method, request.path, content=request.body,
                                      headers=headers)
            if action == "lose":
                self.close_connection = True
                return
            if after is not None:
                after(request, response.status_code)
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection",
                                       "content-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle  # noqa: N815

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        client.close()
