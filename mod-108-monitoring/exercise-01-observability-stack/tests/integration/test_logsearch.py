"""Log queries against the Elasticsearch API: by trace id, and every saved query."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from obsstack.config import ShipperSettings
from obsstack.logsearch import LogSearch, LogSearchError, load_saved_queries
from obsstack.ship import ElasticsearchSink, Shipper

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).parents[2] / "deploy"


@pytest.fixture(scope="module")
def indexed(elasticsearch: Any, tmp_path_factory: pytest.TempPathFactory) -> LogSearch:
    import json

    tmp = tmp_path_factory.mktemp("logsearch")
    prefix = f"q{uuid.uuid4().hex[:8]}"
    lines = []
    for i in range(12):
        lines.append(json.dumps({
            "@timestamp": f"2026-12-01T10:{i:02d}:00.000Z", "service": ["gateway", "model"][i % 2],
            "level": "error" if i % 3 == 0 else "info", "message": f"request {i}",
            "trace_id": ("a" if i < 4 else "b") * 32, "span_id": f"{i:016x}",
            "duration_ms": 100.0 * i}))
    (tmp / "x.log").write_text("\n".join(lines) + "\nfaults set: oops\n")
    Shipper([tmp / "x.log"], ElasticsearchSink(elasticsearch.url), prefix,
            ShipperSettings(state_dir=tmp / "state")).run(once=True)
    search = LogSearch(elasticsearch.url, prefix)
    search.refresh()
    return search


@pytest.mark.points(3)
def test_lines_of_a_trace_oldest_first(indexed: LogSearch) -> None:
    lines = indexed.by_trace("A" * 32)
    assert [x["message"] for x in lines] == [f"request {i}" for i in range(4)]
    assert indexed.by_trace("c" * 32) == []
    with pytest.raises(LogSearchError, match="32 hex digits"):
        indexed.by_trace("not-a-trace")


@pytest.mark.points(3)
def test_every_saved_query_runs(indexed: LogSearch) -> None:
    saved = load_saved_queries(DEPLOY / "logs" / "saved-queries.yaml")
    assert len(saved) >= 5
    results = {name: indexed.run_saved(q) for name, q in saved.items()}
    assert results["errors"]["hits"]["total"]["value"] == 4
    buckets = {b["key"]: b["doc_count"] for b in
               results["errors-by-service"]["aggregations"]["by_service"]["buckets"]}
    assert buckets == {"gateway": 2, "model": 2}
    slow = results["slow-requests"]["aggregations"]["by_service"]["buckets"]
    assert {b["key"]: b["slowest"]["value"] for b in slow} == {"gateway": 1000.0,
                                                               "model": 1100.0}
    assert results["volume"]["aggregations"]["per_minute"]["buckets"]
