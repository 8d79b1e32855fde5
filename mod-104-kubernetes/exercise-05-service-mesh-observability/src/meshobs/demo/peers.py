"""Which verified client certificate is behind each TLS connection.

ASGI gives an app the client's address but not its certificate. uvicorn's HTTP protocol
object sees the TLS transport, so a small subclass records `getpeercert()` per connection,
keyed by the client's (host, port), and forgets it when the connection closes. The app looks
the certificate up by `scope["client"]`. This is the piece a sidecar provides in a real mesh
(Envoy forwards it as `x-forwarded-client-cert`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


class PeerTable:
    """(host, port) -> the peer certificate dict of that live connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._peers: dict[tuple[str, int], dict[str, Any] | None] = {}

    def record(self, address: tuple[str, int] | None, cert: dict[str, Any] | None) -> None:
        if address is not None:
            with self._lock:
                self._peers[address] = cert

    def forget(self, address: tuple[str, int] | None) -> None:
        if address is not None:
            with self._lock:
                self._peers.pop(address, None)

    def lookup(self, address: Sequence[Any] | None) -> dict[str, Any] | None:
        if not address:
            return None
        with self._lock:
            return self._peers.get((str(address[0]), int(address[1])))

    def __len__(self) -> int:
        with self._lock:
            return len(self._peers)


def protocol_with_peers(table: PeerTable) -> type[H11Protocol]:
    """An H11Protocol class that records each connection's verified client certificate."""

    class PeerCertProtocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            ssl_object = transport.get_extra_info("ssl_object")
            table.record(self.client, ssl_object.getpeercert() if ssl_object else None)

        def connection_lost(self, exc: Exception | None) -> None:
            table.forget(self.client)
            super().connection_lost(exc)

    return PeerCertProtocol
