"""Prometheus' HTTP API as the rollout's MetricsSource."""

from __future__ import annotations

import math
import time

import httpx

from meshobs.errors import UnavailableError


class PrometheusSource:
    """Instant values and per-step samples of single-series queries."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict[str, str]) -> dict[str, object]:
        try:
            response = httpx.get(f"{self.url}{path}", params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise UnavailableError(f"Prometheus at {self.url} unreachable "
                              f"({type(exc).__name__})") from exc
        if response.status_code == 400:
            detail = response.json().get("error", response.text[:200])
            raise UnavailableError(f"Prometheus rejected the query: {detail}")
        if response.status_code != 200:
            raise UnavailableError(f"Prometheus at {self.url} answered HTTP {response.status_code}")
        data = response.json().get("data", {})
        assert isinstance(data, dict)
        return data

    def instant(self, query: str, at: float | None = None) -> float | None:
        """The query's single value now (or at `at`); None when it returns no series."""
        params = {"query": query}
        if at is not None:
            params["time"] = f"{at:.3f}"
        result = self._get("/api/v1/query", params).get("result", [])
        assert isinstance(result, list)
        if not result:
            return None
        if len(result) > 1:
            raise UnavailableError(f"query returned {len(result)} series, a check needs one "
                              "(aggregate with sum(...))")
        value = float(result[0]["value"][1])
        return None if math.isnan(value) else value

    def samples(self, query: str, window_seconds: float, step_seconds: float,
                end: float | None = None) -> list[float]:
        """One value per step over the last `window_seconds` (NaN steps dropped)."""
        end = end if end is not None else time.time()
        params = {"query": query, "start": f"{end - window_seconds:.3f}",
                  "end": f"{end:.3f}", "step": f"{step_seconds:g}"}
        result = self._get("/api/v1/query_range", params).get("result", [])
        assert isinstance(result, list)
        values: list[float] = []
        for series in result:
            for _ts, text in series["values"]:
                value = float(text)
                if not math.isnan(value):
                    values.append(value)
        return values

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=self.timeout).status_code == 200
        except httpx.HTTPError:
            return False
