"""`obsstack logs`: the log lines of one trace, and saved queries, over the Elasticsearch
API (bool/term/range/match queries, terms and date_histogram aggregations)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


class LogSearchError(ValueError):
    """Bad query input (trace id, saved query name or file)."""


class LogStoreUnavailableError(RuntimeError):
    """Elasticsearch cannot be reached."""


@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str
    query: dict[str, Any]
    aggs: dict[str, Any] | None = None
    size: int = 20


def trace_query(trace_id: str, size: int = 100) -> dict[str, Any]:
    """The search body for every line of `trace_id`, oldest first."""
    # BEGIN SOLUTION
    trace_id = trace_id.strip().lower()
    if not TRACE_ID.match(trace_id):
        raise LogSearchError(f"invalid trace id {trace_id!r}: expected 32 hex digits")
    return {"size": size, "query": {"bool": {"filter": [{"term": {"trace_id": trace_id}}]}},
            "sort": [{"@timestamp": {"order": "asc"}}]}
    # END SOLUTION


def load_saved_queries(path: Path) -> dict[str, SavedQuery]:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise LogSearchError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise LogSearchError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("queries"), dict):
        raise LogSearchError(f"{path}: expected a mapping `queries: {{name: ...}}`")
    out = {}
    for name, raw in data["queries"].items():
        if not isinstance(raw, dict) or not isinstance(raw.get("query"), dict):
            raise LogSearchError(f"{path}: saved query {name!r} needs a `query` mapping")
        out[str(name)] = SavedQuery(str(name), str(raw.get("description", "")), raw["query"],
                                    raw.get("aggs"), int(raw.get("size", 20)))
    return out


class LogSearch:
    def __init__(self, url: str, index_prefix: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.pattern = f"{index_prefix}-*"
        self.client = httpx.Client(timeout=timeout)

    def search(self, body: dict[str, Any], index: str | None = None) -> dict[str, Any]:
        try:
            response = self.client.post(f"{self.url}/{index or self.pattern}/_search",
                                        json=body)
        except httpx.HTTPError as exc:
            raise LogStoreUnavailableError(f"Elasticsearch at {self.url} unreachable: {exc}"
                                      ) from exc
        if response.status_code == 404:
            return {"hits": {"hits": [], "total": {"value": 0}}}
        if response.status_code >= 400:
            raise LogSearchError(f"query rejected: HTTP {response.status_code} "
                                 f"{response.text[:200]}")
        return dict(response.json())

    def by_trace(self, trace_id: str, size: int = 100) -> list[dict[str, Any]]:
        """The documents of one trace (every service), oldest first."""
        result = self.search(trace_query(trace_id, size))
        return [hit["_source"] for hit in result["hits"]["hits"]]

    def run_saved(self, query: SavedQuery) -> dict[str, Any]:
        body: dict[str, Any] = {"size": query.size, "query": query.query,
                                "sort": [{"@timestamp": {"order": "desc"}}]}
        if query.aggs:
            body["aggs"] = query.aggs
        return self.search(body)

    def count(self, index: str | None = None) -> int:
        try:
            response = self.client.get(f"{self.url}/{index or self.pattern}/_count")
        except httpx.HTTPError as exc:
            raise LogStoreUnavailableError(f"Elasticsearch at {self.url} unreachable: {exc}"
                                      ) from exc
        if response.status_code == 404:
            return 0
        response.raise_for_status()
        return int(response.json()["count"])

    def refresh(self) -> None:
        try:
            self.client.post(f"{self.url}/{self.pattern}/_refresh")
        except httpx.HTTPError as exc:
            raise LogStoreUnavailableError(f"Elasticsearch at {self.url} unreachable: {exc}"
                                      ) from exc


DEFAULT_SAVED_QUERIES = """\
# Saved log queries for `obsstack logs --saved NAME` (Elasticsearch query DSL).
queries:
  errors:
    description: error lines of every service, newest first
    query: {bool: {filter: [{term: {level: error}}]}}
    size: 20
  errors-by-service:
    description: error lines counted per service
    query: {bool: {filter: [{term: {level: error}}]}}
    aggs: {by_service: {terms: {field: service, size: 10}}}
    size: 0
  slow-requests:
    description: requests slower than 500 ms, with the slowest per service
    query: {bool: {filter: [{range: {duration_ms: {gte: 500}}}]}}
    aggs: {by_service: {terms: {field: service}, aggs: {slowest: {max: {field: duration_ms}}}}}
    size: 20
  injected-faults:
    description: lines mentioning an injected fault
    query: {match: {message: faults}}
    size: 20
  volume:
    description: log lines per minute
    query: {match_all: {}}
    aggs: {per_minute: {date_histogram: {field: "@timestamp", fixed_interval: 1m}}}
    size: 0
"""
