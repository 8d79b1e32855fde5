"""Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`): the only place autoscale
speaks to Prometheus. Errors become the exercise's own: unreachable -> PrometheusUnavailable,
a rejected query -> InputError, no series / several series where one is needed ->
MetricsUnavailableError (the controller never scales on those)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx

from autoscale.errors import InputError, MetricsUnavailableError, PrometheusUnavailableError


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]  # (unix seconds, value); NaNs dropped


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise PrometheusUnavailableError(
                f"Prometheus at {self.url} is unreachable ({type(exc).__name__})") from exc
        try:
            body = response.json()
        except ValueError:
            raise PrometheusUnavailableError(
                f"Prometheus at {self.url} answered HTTP {response.status_code} without JSON"
            ) from None
        if body.get("status") != "success":
            if body.get("errorType") == "bad_data":
                raise InputError(f"Prometheus rejected the query: {body.get('error')}")
            raise PrometheusUnavailableError(
                f"Prometheus error ({body.get('errorType')}): {body.get('error')}")
        return dict(body["data"])

    def query(self, promql: str, at: float | None = None) -> list[Series]:
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        data = self._get("/api/v1/query", params)
        if data.get("resultType") == "scalar":
            t, v = data["result"]
            return [Series({}, [(float(t), float(v))])]
        return [Series(dict(item["metric"]), [(float(item["value"][0]),
                                                float(item["value"][1]))])
                for item in data["result"] if not math.isnan(float(item["value"][1]))]

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        data = self._get("/api/v1/query_range",
                         {"query": promql, "start": start, "end": end, "step": step})
        out = []
        for item in data["result"]:
            points = [(float(t), float(v)) for t, v in item["values"]
                      if not math.isnan(float(v))]
            if points:
                out.append(Series(dict(item["metric"]), points))
        return out

    def one(self, series: list[Series], promql: str) -> Series:
        """Exactly one series, or MetricsUnavailableError saying what came back."""
        if not series:
            raise MetricsUnavailableError(f"query returned no series: {promql}")
        if len(series) > 1:
            raise MetricsUnavailableError(
                f"query returned {len(series)} series, expected one (aggregate it, e.g. "
                f"sum(...)): {promql}")
        return series[0]

    def scalar(self, promql: str, at: float | None = None) -> float:
        return self.one(self.query(promql, at), promql).points[-1][1]
