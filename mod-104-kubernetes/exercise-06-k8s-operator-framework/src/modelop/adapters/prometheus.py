"""Prometheus instant queries over its HTTP API (httpx), for the canary gates."""

from __future__ import annotations

import httpx


class PrometheusError(RuntimeError):
    """Prometheus could not answer (down, bad query): the gate is treated as having no data
    and the reason is logged, so an outage never promotes a canary."""


class Prometheus:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def query(self, promql: str) -> float | None:
        """The single value of an instant vector or scalar; None when the result is empty."""
        try:
            response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql},
                                 timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise PrometheusError(f"Prometheus at {self.url} unreachable: {exc}") from exc
        if response.status_code != 200:
            raise PrometheusError(f"Prometheus rejected the query ({response.status_code}): "
                                  f"{response.text[:200]}")
        data = response.json().get("data", {})
        result = data.get("result")
        if data.get("resultType") == "scalar":
            return float(result[1])
        if not result:
            return None
        return float(result[0]["value"][1])
