"""Loopback ports and readiness probes."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on `host` right now.

    The port is released before returning, so another process could grab it; on a test
    machine that race is rare and the service start fails loudly if it happens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tcp_ready(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ready(url: str, expect_status: int | None = None) -> bool:
    """True when `url` answers; with `expect_status`, only when it answers with that code."""
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return False
    if expect_status is None:
        return response.status_code < 500
    return response.status_code == expect_status


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    interval: float = 0.2,
    alive: Callable[[], bool] | None = None,
) -> bool:
    """Poll `condition` until true or `timeout` seconds pass; stop early if `alive()` is False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if alive is not None and not alive():
            return False
        time.sleep(interval)
    return condition()


def wait_for_tcp(host: str, port: int, timeout: float = 30.0) -> bool:
    """Wait until host:port accepts connections."""
    return wait_until(lambda: tcp_ready(host, port), timeout)


def wait_for_http(url: str, timeout: float = 30.0, expect_status: int | None = None) -> bool:
    """Wait until `url` answers over HTTP."""
    return wait_until(lambda: http_ready(url, expect_status), timeout)
