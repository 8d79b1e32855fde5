"""`tfml registry serve`: the Module Registry Protocol over HTTPS, from the release archives.

    GET /.well-known/terraform.json                      {"modules.v1": "/v1/modules/"}
    GET /v1/modules/NS/NAME/PROVIDER/versions           {"modules": [{"versions": [...]}]}
    GET /v1/modules/NS/NAME/PROVIDER/VERSION/download   204, X-Terraform-Get: <archive URL>
    GET /archives/NS/NAME/PROVIDER/VERSION.tar.gz       the archive `tfml release` built

The archives live in `dist/NS/NAME/PROVIDER/VERSION.tar.gz`; every error is JSON
(`{"errors": [...]}`) with a 404 or 400, as the public registry answers.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tfml.errors import ConfigurationError
from tfml.semver import parse_version
from tfml.tls import TlsFiles

log = logging.getLogger(__name__)
SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_-]*"
VERSIONS_RE = re.compile(rf"^/v1/modules/({SEGMENT})/({SEGMENT})/({SEGMENT})/versions$")
DOWNLOAD_RE = re.compile(
    rf"^/v1/modules/({SEGMENT})/({SEGMENT})/({SEGMENT})/(\d+\.\d+\.\d+)/download$")
ARCHIVE_RE = re.compile(
    rf"^/archives/({SEGMENT})/({SEGMENT})/({SEGMENT})/(\d+\.\d+\.\d+)\.tar\.gz$")


def archive_path(dist: Path, namespace: str, name: str, provider: str, version: str) -> Path:
    return Path(dist) / namespace / name / provider / f"{version}.tar.gz"


def list_versions(dist: Path, namespace: str, name: str, provider: str) -> list[str]:
    """Released versions of one module, oldest first."""
    folder = Path(dist) / namespace / name / provider
    versions = []
    for path in folder.glob("*.tar.gz") if folder.is_dir() else []:
        text = path.name[: -len(".tar.gz")]
        try:
            versions.append(parse_version(text))
        except ConfigurationError:
            log.debug("ignoring %s: not a release archive", path)
    return [str(v) for v in sorted(versions)]


def route(dist: Path, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """The registry's answer to one request: status, headers, body (no sockets involved)."""
    # BEGIN SOLUTION
    def error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "application/json"}, json.dumps(
            {"errors": [message]}).encode()

    def ok_json(payload: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    if method not in ("GET", "HEAD"):
        return error(405, f"method {method} not allowed")
    path = path.split("?", 1)[0]
    if path == "/.well-known/terraform.json":
        return ok_json({"modules.v1": "/v1/modules/"})
    if match := VERSIONS_RE.match(path):
        namespace, name, provider = match.groups()
        versions = list_versions(dist, namespace, name, provider)
        if not versions:
            return error(404, f"module {namespace}/{name}/{provider} not found")
        return ok_json({"modules": [{"source": f"{namespace}/{name}/{provider}",
                                     "versions": [{"version": v} for v in versions]}]})
    if match := DOWNLOAD_RE.match(path):
        namespace, name, provider, version = match.groups()
        if not archive_path(dist, namespace, name, provider, version).is_file():
            return error(404, f"module {namespace}/{name}/{provider} has no version {version}")
        location = f"/archives/{namespace}/{name}/{provider}/{version}.tar.gz"
        return 204, {"X-Terraform-Get": location}, b""
    if match := ARCHIVE_RE.match(path):
        archive = archive_path(dist, *match.groups())
        if not archive.is_file():
            return error(404, "archive not found")
        return 200, {"Content-Type": "application/gzip"}, archive.read_bytes()
    return error(404, f"not found: {path}")
    # END SOLUTION


@dataclass
class RegistryServer:
    """A running registry; `url` is https://127.0.0.1:PORT."""

    httpd: ThreadingHTTPServer
    thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def modules_url(self) -> str:
        return f"{self.url}/v1/modules/"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(timeout=5)


def make_server(dist: Path, tls: TlsFiles, host: str = "127.0.0.1",
                port: int = 0) -> RegistryServer:
    dist = Path(dist)

    class Handler(BaseHTTPRequestHandler):
        server_version = "tfml-registry"

        def _answer(self) -> None:
            status, headers, body = route(dist, self.command, self.path)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)

        do_GET = _answer  # noqa: N815 - http.server's naming
        do_HEAD = _answer  # noqa: N815
        do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            log.info("registry %s", format % args)

    httpd = ThreadingHTTPServer((host, port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tls.server_cert), str(tls.server_key))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    return RegistryServer(httpd)


def start_background(dist: Path, tls: TlsFiles, port: int = 0) -> RegistryServer:
    server = make_server(dist, tls, port=port)
    server.thread = threading.Thread(target=server.httpd.serve_forever, daemon=True,
                                     name="tfml-registry")
    server.thread.start()
    return server
