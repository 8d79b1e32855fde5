"""Service graph and critical path from spans: pure functions, no storage.

An edge A -> B is a span of service B whose parent span belongs to service A (with OTel's
CLIENT/SERVER pairs: B's SERVER span under A's CLIENT span). Its request count, error count
and latency come from the callee's span, as Kiali and Tempo's service graphs do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from meshobs.traces.model import Span


@dataclass(frozen=True)
class EdgeObservation:
    source: str
    target: str
    duration_ms: float
    error: bool
    start_ns: int


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    requests: int
    errors: int
    rate_per_s: float
    error_rate: float
    p95_ms: float


def observations(spans: Iterable[Span]) -> list[EdgeObservation]:
    """Cross-service parent/child pairs within each trace."""
    # BEGIN SOLUTION
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    found = []
    for span in by_id.values():
        parent = by_id.get((span.trace_id, span.parent_id)) if span.parent_id else None
        if parent is not None and parent.service != span.service:
            found.append(EdgeObservation(parent.service, span.service, span.duration_ms,
                                         span.error, span.start_ns))
    return found
    # END SOLUTION


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100): an observed value, no interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n*q/100)
    return ordered[int(rank) - 1]


def edges(found: Iterable[EdgeObservation], window_seconds: float) -> list[Edge]:
    """Aggregate observations into edges with rate, error rate and p95."""
    # BEGIN SOLUTION
    groups: dict[tuple[str, str], list[EdgeObservation]] = defaultdict(list)
    for obs in found:
        groups[(obs.source, obs.target)].append(obs)
    out = []
    for (source, target), items in sorted(groups.items()):
        errors = sum(1 for o in items if o.error)
        out.append(Edge(source, target, len(items), errors,
                        round(len(items) / window_seconds, 4) if window_seconds > 0 else 0.0,
                        round(errors / len(items), 4),
                        round(percentile([o.duration_ms for o in items], 95), 3)))
    return out
    # END SOLUTION


@dataclass(frozen=True)
class PathSegment:
    service: str
    name: str
    span_id: str
    duration_ms: float
    self_ms: float  # time on the critical path not covered by the next segment


def critical_path(spans: list[Span]) -> list[PathSegment]:
    """The chain of spans that bounds the trace's latency.

    From the root, repeatedly follow the child that finishes last (the one the parent was
    still waiting for); each segment's self time is its duration minus that child's. A
    simplification of Jaeger's algorithm that is exact for sequential call chains.
    """
    # BEGIN SOLUTION
    if not spans:
        return []
    ids = {s.span_id for s in spans}
    children: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        if span.parent_id in ids:
            children[span.parent_id].append(span)
    roots = [s for s in spans if s.parent_id not in ids]
    current: Span | None = max(roots, key=lambda s: s.end_ns - s.start_ns)
    path = []
    while current is not None:
        kids = children.get(current.span_id, [])
        last = max(kids, key=lambda s: s.end_ns) if kids else None
        covered = 0.0
        if last is not None:
            covered = (min(last.end_ns, current.end_ns) - max(last.start_ns,
                                                               current.start_ns)) / 1e6
        path.append(PathSegment(current.service, current.name, current.span_id,
                                round(current.duration_ms, 3),
                                round(max(0.0, current.duration_ms - covered), 3)))
        current = last
    return path
    # END SOLUTION
