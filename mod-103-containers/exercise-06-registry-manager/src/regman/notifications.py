"""Registry push notifications -> regman's first-seen records.

A distribution registry can POST an event envelope to an endpoint after every push
(`notifications.endpoints` in its config.yml). `regman notifications serve` is that
endpoint: each manifest push is recorded as *first seen* in the state directory at the time
the event arrives (not the event's own timestamp, which a sender could backdate), so the
retention grace window holds for a pushed or replicated image even when regman does not run
on the registry host. With a token configured, only requests carrying it are accepted.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from regman.oci import INDEX_TYPES, MANIFEST_TYPES
from regman.state import StateStore

log = logging.getLogger(__name__)


def manifest_pushes(envelope: object) -> list[tuple[str, str]]:
    """(repository, digest) of every manifest push in a distribution event envelope."""
    # BEGIN SOLUTION: action push, target a manifest or index, with repository and digest
    events = envelope.get("events") if isinstance(envelope, dict) else None
    if not isinstance(events, list):
        raise ValueError("not a registry event envelope (no 'events' list)")
    out = []
    for event in events:
        target = event.get("target") if isinstance(event, dict) else None
        if not isinstance(target, dict) or event.get("action") != "push":
            continue
        if target.get("mediaType") not in MANIFEST_TYPES | INDEX_TYPES:
            continue
        repository, digest = target.get("repository"), target.get("digest")
        if isinstance(repository, str) and isinstance(digest, str) and \
                digest.startswith("sha256:"):
            out.append((repository, digest))
    return out
    # END SOLUTION


def make_server(store: StateStore, registry: str, host: str, port: int,
                token: str | None = None) -> ThreadingHTTPServer:
    """An HTTP server recording the pushes `registry` reports (POST, any path)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug(fmt, *args)

        def _reply(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply(200, "ok\n")

        def do_POST(self) -> None:
            # BEGIN SOLUTION: check the token, parse the envelope, record pushes as first seen
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if token is not None:
                given = self.headers.get("Authorization", "")
                if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                    self._reply(401, "unauthorized\n")
                    return
            try:
                pushes = manifest_pushes(json.loads(body))
            except ValueError as exc:
                self._reply(400, f"{exc}\n")
                return
            record(store, registry, pushes, time.time())
            self._reply(200, f"recorded {len(pushes)}\n")
            # END SOLUTION

    return ThreadingHTTPServer((host, port), Handler)


def record(store: StateStore, registry: str, pushes: Iterable[tuple[str, str]],
           when: float) -> None:
    store.record_first_seen(registry, ((repo, digest, when) for repo, digest in pushes))
