"""SQLite storage for spans, tail-sampling decisions and service-graph observations.

The service graph must count all traffic, not only the traces sampling keeps (Tempo's
metrics-generator works the same way): when a trace is decided, its cross-service edges are
recorded in `edges` first, then a dropped trace's spans are deleted. The graph is `edges`
plus the edges of traces not decided yet.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from meshobs.traces import graph, sampling
from meshobs.traces.model import Span

SCHEMA = """
CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT NOT NULL,
    service TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, error INTEGER NOT NULL,
    attributes TEXT NOT NULL, received_at REAL NOT NULL,
    PRIMARY KEY (trace_id, span_id));
CREATE INDEX IF NOT EXISTS spans_received ON spans (received_at);
CREATE TABLE IF NOT EXISTS decisions (
    trace_id TEXT PRIMARY KEY, keep INTEGER NOT NULL, reason TEXT NOT NULL,
    decided_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS edges (
    source TEXT NOT NULL, target TEXT NOT NULL, duration_ms REAL NOT NULL,
    error INTEGER NOT NULL, start_ns INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS edges_start ON edges (start_ns);
"""


def _row_to_span(row: tuple[Any, ...]) -> Span:
    return Span(trace_id=row[0], span_id=row[1], parent_id=row[2], service=row[3],
                name=row[4], kind=row[5], start_ns=row[6], end_ns=row[7], error=bool(row[8]),
                attributes=json.loads(row[9]))


# Fixed SQL text only: every value goes through "?" placeholders.
_SELECT = ("SELECT s.trace_id, s.span_id, s.parent_id, s.service, s.name, s.kind, "
           "s.start_ns, s.end_ns, s.error, s.attributes FROM spans s")
_INSERT = ("INSERT OR REPLACE INTO spans (trace_id, span_id, parent_id, service, name, kind, "
           "start_ns, end_ns, error, attributes, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)")


class TraceStore:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ingest(self, spans: list[Span], now: float | None = None) -> int:
        now = time.time() if now is None else now
        rows = [(s.trace_id, s.span_id, s.parent_id, s.service, s.name, s.kind, s.start_ns,
                 s.end_ns, int(s.error), json.dumps(s.attributes, default=str), now)
                for s in spans]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(_INSERT, rows)
            self._db.execute("COMMIT")
        return len(rows)

    def trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            rows = self._db.execute(_SELECT + " WHERE s.trace_id = ? ORDER BY s.start_ns",
                                    (trace_id.lower(),)).fetchall()
        return [_row_to_span(r) for r in rows]

    def trace_ids(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT trace_id, COUNT(*), MIN(start_ns), MAX(end_ns), MAX(error), "
                "GROUP_CONCAT(DISTINCT service) FROM spans GROUP BY trace_id "
                "ORDER BY MIN(start_ns) DESC LIMIT ?", (limit,)).fetchall()
        return [{"trace_id": r[0], "spans": r[1], "duration_ms": (r[3] - r[2]) / 1e6,
                 "error": bool(r[4]), "services": sorted(str(r[5]).split(","))} for r in rows]

    def apply_tail_sampling(self, policy: sampling.TailPolicy, now: float | None = None
                            ) -> dict[str, int]:
        """Decide every trace that received no span for `decision_wait_s`; counts by reason."""
        now = time.time() if now is None else now
        counts: dict[str, int] = defaultdict(int)
        with self._lock:
            ready = [r[0] for r in self._db.execute(
                "SELECT s.trace_id FROM spans s LEFT JOIN decisions d USING (trace_id) "
                "WHERE d.trace_id IS NULL GROUP BY s.trace_id HAVING MAX(s.received_at) <= ?",
                (now - policy.decision_wait_s,)).fetchall()]
            self._db.execute("BEGIN")
            for trace_id in ready:
                spans = [_row_to_span(r) for r in self._db.execute(
                    _SELECT + " WHERE s.trace_id = ?", (trace_id,))]
                decision = sampling.decide(spans, policy)
                counts[decision.reason] += 1
                self._db.executemany(
                    "INSERT INTO edges (source, target, duration_ms, error, start_ns) "
                    "VALUES (?,?,?,?,?)",
                    [(o.source, o.target, o.duration_ms, int(o.error), o.start_ns)
                     for o in graph.observations(spans)])
                self._db.execute("INSERT INTO decisions VALUES (?,?,?,?)",
                                 (trace_id, int(decision.keep), decision.reason, now))
                if not decision.keep:
                    self._db.execute("DELETE FROM spans WHERE trace_id = ?", (trace_id,))
            self._db.execute("COMMIT")
        return dict(counts)

    def service_graph(self, window_seconds: float, now: float | None = None
                      ) -> list[graph.Edge]:
        now = time.time() if now is None else now
        since_ns = int((now - window_seconds) * 1e9)
        with self._lock:
            decided = [graph.EdgeObservation(r[0], r[1], r[2], bool(r[3]), r[4])
                       for r in self._db.execute(
                           "SELECT source, target, duration_ms, error, start_ns FROM edges "
                           "WHERE start_ns >= ?", (since_ns,))]
            rows = self._db.execute(
                _SELECT + " LEFT JOIN decisions d USING (trace_id) WHERE d.trace_id IS NULL"
            ).fetchall()
        pending = [o for o in graph.observations([_row_to_span(r) for r in rows])
                   if o.start_ns >= since_ns]
        return graph.edges([*decided, *pending], window_seconds)

    def counts(self) -> dict[str, Any]:
        with self._lock:
            spans = self._db.execute("SELECT COUNT(*), COUNT(DISTINCT trace_id) FROM spans"
                                     ).fetchone()
            decisions = dict(self._db.execute(
                "SELECT reason, COUNT(*) FROM decisions GROUP BY reason").fetchall())
        return {"spans": spans[0], "traces": spans[1], "decisions": decisions}
