"""A small Prometheus HTTP API client: failures become UnavailableError (exit 5)."""

from __future__ import annotations

from typing import Any

import httpx

from gpufleet.errors import UnavailableError


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        try:
            response = httpx.get(f"{self.url}/api/v1/query", params=params, timeout=self.timeout)
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise UnavailableError(f"Prometheus at {self.url}: HTTP {exc.response.status_code}"
                                   f" for {expr!r}") from exc
        except httpx.HTTPError as exc:
            raise UnavailableError(f"Prometheus at {self.url} unreachable "
                                   f"({type(exc).__name__})") from exc
        payload = response.json()
        if payload.get("status") != "success":
            raise UnavailableError(f"Prometheus error: {payload.get('error')}")
        return list(payload["data"]["result"])
