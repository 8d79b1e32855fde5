"""A collective benchmark in the manner of nccl-tests: all_reduce from 1 KiB to 64 MiB.

For a message of S bytes that takes t seconds on n ranks (nccl-tests, doc/PERFORMANCE.md):

* algbw = S / t  (what the application sees)
* busbw = algbw * 2(n-1)/n for all_reduce (what each link carried in a ring: a reduce-scatter
  and an all-gather, each moving (n-1)/n of the data), so it is comparable across n and with
  the hardware's link bandwidth.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.distributed as dist

KIB = 1024
DEFAULT_SIZES = [KIB * 4**i for i in range(0, 10)]  # 1 KiB ... 256 MiB, cut to 64 MiB below
DEFAULT_SIZES = [s for s in DEFAULT_SIZES if s <= 64 * KIB * KIB]


def bus_factor(op: str, world: int) -> float:
    """busbw / algbw for `op` on `world` ranks (nccl-tests' factors)."""
    # BEGIN SOLUTION
    if world <= 1:
        return 1.0 if op == "broadcast" else 0.0
    return {"all_reduce": 2 * (world - 1) / world,
            "all_gather": (world - 1) / world,
            "reduce_scatter": (world - 1) / world,
            "broadcast": 1.0}[op]
    # END SOLUTION


@dataclass
class CommResult:
    op: str
    bytes: int
    world_size: int
    seconds: float  # median over iterations

    @property
    def algbw_gbps(self) -> float:
        return self.bytes / self.seconds / 1e9

    @property
    def busbw_gbps(self) -> float:
        return self.algbw_gbps * bus_factor(self.op, self.world_size)

    def as_dict(self) -> dict[str, float | int | str]:
        return {"op": self.op, "bytes": self.bytes, "world_size": self.world_size,
                "time_us": round(self.seconds * 1e6, 2),
                "algbw_gbps": round(self.algbw_gbps, 4), "busbw_gbps": round(self.busbw_gbps, 4)}


def run_allreduce(sizes: list[int], iters: int, device: torch.device,
                  warmup: int = 2) -> list[CommResult]:
    """Time all_reduce of float32 buffers of each size (every rank calls it)."""
    world = dist.get_world_size()
    results = []
    for size in sizes:
        buf = torch.ones(max(size // 4, 1), dtype=torch.float32, device=device)
        n = iters if size <= 4 * KIB * KIB else max(3, iters // 4)
        times = []
        for i in range(warmup + n):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(buf)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if i >= warmup:
                times.append(time.perf_counter() - start)
        # every rank's time differs a little: take the slowest rank's, as nccl-tests does
        median = torch.tensor(sorted(times)[len(times) // 2], dtype=torch.float64)
        dist.all_reduce(median, op=dist.ReduceOp.MAX)
        results.append(CommResult("all_reduce", buf.numel() * 4, world, float(median)))
    return results
