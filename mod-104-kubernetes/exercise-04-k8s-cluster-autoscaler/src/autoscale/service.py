"""The service model: what a set of ready pods does with an arrival rate.

Each ready pod is one server of rate `capacity` (requests/s at 100 % of its CPU request; a
pod's CPU limit equals its request, so utilization saturates at 100 %). Together they form an
M/M/c queue: the probability of waiting is Erlang C, and the 95th percentile of the wait is
`ln(Pw / 0.05) / (c * mu - lambda)` when Pw > 5 %. Above capacity the excess is dropped
(the load balancer's queue is full) and latency is the client timeout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TIMEOUT_MS = 10_000.0


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits, for `servers` and offered load `offered` (Erlangs)."""
    # BEGIN SOLUTION
    if servers <= 0:
        return 1.0
    if offered <= 0:
        return 0.0
    if offered >= servers:
        return 1.0
    erlang_b = 1.0
    for k in range(1, servers + 1):
        erlang_b = offered * erlang_b / (k + offered * erlang_b)
    rho = offered / servers
    return erlang_b / (1 - rho * (1 - erlang_b))
    # END SOLUTION


@dataclass(frozen=True)
class Load:
    arrivals: float  # requests/s offered
    served: float  # requests/s handled
    dropped: float  # requests/s rejected
    utilization: float  # 0..1 of the ready pods' capacity
    p95_ms: float


def serve(arrivals: float, ready_pods: int, capacity: float, base_latency_ms: float) -> Load:
    """Steady-state answer of the queue for one step."""
    # BEGIN SOLUTION
    if arrivals <= 0:
        return Load(0.0, 0.0, 0.0, 0.0, base_latency_ms)
    total = ready_pods * capacity
    if ready_pods == 0 or arrivals >= total * 0.999:
        served = total * 0.999 if ready_pods else 0.0
        return Load(arrivals, served, arrivals - served, 1.0 if ready_pods else 0.0, TIMEOUT_MS)
    waiting = erlang_c(ready_pods, arrivals / capacity)
    wait95 = math.log(waiting / 0.05) / (total - arrivals) if waiting > 0.05 else 0.0
    return Load(arrivals, arrivals, 0.0, arrivals / total,
                min(base_latency_ms + 1000 * wait95, TIMEOUT_MS))
    # END SOLUTION
