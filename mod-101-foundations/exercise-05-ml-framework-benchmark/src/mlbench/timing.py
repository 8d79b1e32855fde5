"""The timing loop: warm-up, then one `perf_counter_ns` pair around step + device sync.

Synchronisation is part of the timed region on purpose: frameworks dispatch GPU work (and JAX
dispatches CPU work) asynchronously, so a loop that does not wait measures launch time only.
The adapter supplies `sync(out)`: `torch.cuda.synchronize()`, `jax.block_until_ready(out)`,
or TF's device sync.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Step = Callable[[], Any]
Sync = Callable[[Any], None]


def time_step(step: Step, sync: Sync, iterations: int, warmup: int = 0) -> list[float]:
    """Per-iteration latencies in seconds; warm-up iterations run (and sync) untimed."""
    # BEGIN SOLUTION: validate, warm up untimed, then time step plus sync per iteration
    if iterations < 1:
        raise ValueError("iterations must be >= 1")
    if warmup < 0:
        raise ValueError("warmup must be >= 0")
    for _ in range(warmup):
        sync(step())
    clock = time.perf_counter_ns
    samples: list[float] = []
    append = samples.append
    for _ in range(iterations):
        start = clock()
        sync(step())
        append((clock() - start) * 1e-9)
    return samples
    # END SOLUTION
