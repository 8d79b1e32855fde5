"""Prometheus HTTP API client (instant queries), with errors the CLI can print in one line."""

from __future__ import annotations

from typing import Any

import httpx


class PrometheusUnavailableError(RuntimeError):
    """Prometheus could not be reached or answered with a server error."""


class PrometheusQueryError(ValueError):
    """Prometheus rejected the query (bad PromQL)."""


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; returns the result vector (list of {metric, value})."""
        # BEGIN SOLUTION: GET /api/v1/query; map failures to the two error types
        try:
            response = self._http.get(f"{self.url}/api/v1/query", params={"query": expr})
        except httpx.HTTPError as exc:
            raise PrometheusUnavailableError(
                f"cannot reach Prometheus at {self.url}: {exc}") from exc
        if response.status_code >= 500:
            raise PrometheusUnavailableError(
                f"Prometheus at {self.url} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise PrometheusUnavailableError(
                f"{self.url} did not answer like Prometheus (not JSON)") from exc
        if body.get("status") != "success":
            raise PrometheusQueryError(f"query {expr!r} failed: {body.get('error', body)}")
        result = body["data"]["result"]
        if body["data"].get("resultType") == "scalar":
            return [{"metric": {}, "value": result}]
        return list(result)
        # END SOLUTION

    def scalar(self, expr: str) -> float | None:
        """First sample's value as float, None when the vector is empty (or NaN)."""
        result = self.query(expr)
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if value != value else value  # NaN -> None

    def vector(self, expr: str, label: str) -> dict[str, float]:
        """Map `label` value -> sample value (NaNs dropped)."""
        out = {}
        for sample in self.query(expr):
            value = float(sample["value"][1])
            if value == value:
                out[sample["metric"].get(label, "")] = value
        return out
