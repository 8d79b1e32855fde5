"""Tail sampling: decide per *complete* trace which ones to keep.

Head sampling (the SDK's ratio sampler) decides before anything happened and so drops most
errors; a tail sampler waits until the trace is complete and keeps every trace with an error,
every slow one, and a deterministic share of the rest (hash of the trace id, so every
collector replica decides the same way), like the OpenTelemetry Collector's
`tail_sampling` processor with status_code, latency and probabilistic policies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from meshobs.traces.model import Span


@dataclass(frozen=True)
class TailPolicy:
    slow_ms: float = 500.0
    keep_percent: float = 10.0
    decision_wait_s: float = 2.0


@dataclass(frozen=True)
class Decision:
    keep: bool
    reason: str  # "error", "slow", "sampled", "dropped"


def trace_duration_ms(spans: list[Span]) -> float:
    return (max(s.end_ns for s in spans) - min(s.start_ns for s in spans)) / 1e6


def _bucket(trace_id: str) -> float:
    """A stable number in [0, 100) from the trace id."""
    digest = hashlib.sha256(trace_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def decide(spans: list[Span], policy: TailPolicy) -> Decision:
    # BEGIN SOLUTION
    if any(s.error for s in spans):
        return Decision(True, "error")
    if trace_duration_ms(spans) >= policy.slow_ms:
        return Decision(True, "slow")
    if _bucket(spans[0].trace_id) < policy.keep_percent:
        return Decision(True, "sampled")
    return Decision(False, "dropped")
    # END SOLUTION
