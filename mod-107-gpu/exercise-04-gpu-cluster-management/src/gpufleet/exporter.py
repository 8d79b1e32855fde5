"""`gpufleet exporter`: an HTTP /metrics endpoint in dcgm-exporter's format."""

from __future__ import annotations

import http.server
import socket
import threading
from typing import Any

from gpufleet.telemetry import Collector, exposition


class Exporter:
    def __init__(self, collector: Collector, emulated: bool, host: str = "127.0.0.1",
                 port: int = 9400) -> None:
        self.collector = collector
        self.emulated = emulated
        self.lock = threading.Lock()
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.port = int(self.server.server_address[1])
        self.thread: threading.Thread | None = None

    def render(self) -> str:
        with self.lock:
            return exposition(self.collector.read(), self.collector.hostname, self.emulated)

    def start(self) -> Exporter:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.server_close()


def hostname() -> str:
    return socket.gethostname()
