"""MLPerf LoadGen-style inference scenarios, driven by a query callable.

- SingleStream: one query (batch 1) at a time, the next issued when the last completes;
  the metric is the 90th-percentile latency.
- Offline: every sample available at once, processed in batches of the job's batch size;
  the metric is throughput (samples/s).
- Server: queries arrive as a Poisson process at `target_qps`; one FIFO worker serves them.
  Latency is completion minus *scheduled arrival* (so queueing counts, as in LoadGen); the run
  is valid when the 99th-percentile latency is within `latency_bound_s`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel

from mlbench.timing import Step, Sync


class ScenarioResult(BaseModel):
    """What a scenario measured; `latencies` are per query, in seconds."""

    scenario: str
    queries: int
    samples: int
    wall_s: float
    throughput: float  # samples/s
    latencies: list[float]
    target_qps: float | None = None
    achieved_qps: float | None = None
    latency_bound_s: float | None = None
    p99_s: float | None = None
    target_met: bool | None = None


def poisson_arrivals(qps: float, count: int, seed: int = 0) -> np.ndarray:
    """Arrival offsets (seconds from start) of a Poisson process: exponential gaps, mean 1/qps."""
    # BEGIN SOLUTION: validate, then cumulative sums of seeded exponential gaps (mean 1/qps)
    if qps <= 0:
        raise ValueError("target QPS must be > 0")
    if count < 1:
        raise ValueError("count must be >= 1")
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.exponential(1.0 / qps, count))
    # END SOLUTION


def single_stream(query: Step, sync: Sync, queries: int) -> ScenarioResult:
    """Issue `queries` batch-1 queries back to back."""
    # BEGIN SOLUTION: issue the queries back to back, timing query plus sync each
    lat: list[float] = []
    t0 = time.perf_counter()
    for _ in range(queries):
        s = time.perf_counter_ns()
        sync(query())
        lat.append((time.perf_counter_ns() - s) * 1e-9)
    wall = time.perf_counter() - t0
    return ScenarioResult(scenario="single_stream", queries=queries, samples=queries,
                          wall_s=wall, throughput=queries / wall, latencies=lat)
    # END SOLUTION


def offline(query: Step, sync: Sync, batches: int, batch_size: int) -> ScenarioResult:
    """Process `batches` full batches as fast as possible; report samples per second."""
    # BEGIN SOLUTION: run the batches as fast as possible and report samples per second
    lat: list[float] = []
    t0 = time.perf_counter()
    for _ in range(batches):
        s = time.perf_counter_ns()
        sync(query())
        lat.append((time.perf_counter_ns() - s) * 1e-9)
    wall = time.perf_counter() - t0
    samples = batches * batch_size
    return ScenarioResult(scenario="offline", queries=batches, samples=samples, wall_s=wall,
                          throughput=samples / wall, latencies=lat)
    # END SOLUTION


def server(query: Step, sync: Sync, queries: int, target_qps: float, latency_bound_s: float,
           seed: int = 0, sleep: Callable[[float], Any] = time.sleep) -> ScenarioResult:
    """Serve Poisson-arriving batch-1 queries with one FIFO worker.

    A query starts at max(its arrival, the previous completion); the worker sleeps while the
    queue is empty, so an under-loaded server shows pure service latency and an overloaded
    one shows growing queueing delay.
    """
    # BEGIN SOLUTION: serve Poisson arrivals FIFO, latency from scheduled arrival, p99 vs bound
    arrivals = poisson_arrivals(target_qps, queries, seed)
    lat: list[float] = []
    t0 = time.perf_counter()
    for due in arrivals:
        wait = due - (time.perf_counter() - t0)
        if wait > 0:
            sleep(wait)
        sync(query())
        lat.append(time.perf_counter() - t0 - float(due))
    wall = time.perf_counter() - t0
    p99 = float(np.percentile(lat, 99))
    return ScenarioResult(scenario="server", queries=queries, samples=queries, wall_s=wall,
                          throughput=queries / wall, latencies=lat, target_qps=target_qps,
                          achieved_qps=queries / float(arrivals[-1]),
                          latency_bound_s=latency_bound_s, p99_s=p99,
                          target_met=p99 <= latency_bound_s)
    # END SOLUTION
