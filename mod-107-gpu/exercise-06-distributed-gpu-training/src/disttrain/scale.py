"""`disttrain scale`: what data parallelism costs here, and a projection for N GPUs.

Measured (weak scaling: the per-rank batch stays fixed, the global batch grows with n):

* samples/s at 1 and 2 processes (more on a machine with more GPUs), `OMP_NUM_THREADS=1` per
  rank so the processes do not fight over cores;
* efficiency(n) = samples/s(n) / (n x samples/s(1));
* communication share(n) = 1 - step time(1) / step time(n): the part of a step that the
  1-process run does not pay (gradient all-reduce and waiting), with and without bf16
  compression.

Projected (ring model, as NCCL's ring all-reduce): one step on N ranks costs
``T(N) = T_compute + 2(N-1) alpha + 2(N-1)/N * S / B`` with S the gradient bytes, alpha the
per-hop latency and B the bus bandwidth, both fitted from the measured all_reduce benchmark
(alpha from the smallest message, B = busbw at the gradient's size). No overlap of
communication with backward is assumed, so the projection is a lower bound on efficiency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from disttrain.config import TrainConfig


def ring_allreduce_seconds(nbytes: float, world: int, alpha_s: float, bus_gbps: float) -> float:
    """Ring all-reduce time of `nbytes` on `world` ranks: 2(N-1) hops of latency, and each
    rank sends and receives 2(N-1)/N of the data at the bus bandwidth."""
    # BEGIN SOLUTION
    if world <= 1:
        return 0.0
    return 2 * (world - 1) * alpha_s + 2 * (world - 1) / world * nbytes / (bus_gbps * 1e9)
    # END SOLUTION


def fit_ring(commbench: list[dict[str, Any]], grad_bytes: float) -> tuple[float, float]:
    """(alpha seconds, bus GB/s) from all_reduce results measured on `world` ranks."""
    rows = sorted(commbench, key=lambda r: r["bytes"])
    world = int(rows[0]["world_size"])
    alpha = rows[0]["time_us"] / 1e6 / (2 * max(world - 1, 1))
    nearest = min(rows, key=lambda r: abs(r["bytes"] - grad_bytes))
    return alpha, float(nearest["busbw_gbps"])


def project(compute_s: float, grad_bytes: float, alpha_s: float, bus_gbps: float,
            per_rank_batch: int, worlds: list[int]) -> list[dict[str, float]]:
    rows = []
    for n in worlds:
        comm = ring_allreduce_seconds(grad_bytes, n, alpha_s, bus_gbps)
        step = compute_s + comm
        rows.append({"world": n, "step_ms": round(step * 1000, 3),
                     "comm_share": round(comm / step, 4),
                     "samples_per_s": round(n * per_rank_batch / step, 1),
                     "efficiency": round(compute_s / step, 4)})
    return rows


@dataclass
class ScalePoint:
    world: int
    comm_hook: str
    samples_per_s: float
    step_ms: float


def scale_configs(base: TrainConfig, per_rank_batch: int, world: int,
                  comm_hook: str) -> TrainConfig:
    return base.overrides(name=f"scale-w{world}-{comm_hook}", strategy="ddp",
                          global_batch=per_rank_batch * world, accumulation_steps=1,
                          comm_hook=comm_hook, checkpoint_dir=None, straggler=False,
                          kill_at_step=None, inject_delay=None, threads=1)


def summarize(points: list[ScalePoint], commbench: list[dict[str, Any]], grad_bytes: float,
              per_rank_batch: int, project_to: list[int]) -> dict[str, Any]:
    """Efficiency and communication share per measured point, plus the projection."""
    base = next(p for p in points if p.world == 1)
    measured = []
    for p in points:
        measured.append({"world": p.world, "comm_hook": p.comm_hook,
                         "samples_per_s": round(p.samples_per_s, 1),
                         "step_ms": round(p.step_ms, 3),
                         "speedup": round(p.samples_per_s / base.samples_per_s, 3),
                         "efficiency": round(p.samples_per_s / (p.world * base.samples_per_s),
                                             3),
                         "comm_share": round(max(0.0, 1 - base.step_ms / p.step_ms), 3)
                         if p.world > 1 else 0.0})
    out: dict[str, Any] = {"per_rank_batch": per_rank_batch, "grad_bytes": grad_bytes,
                           "measured": measured}
    if commbench:
        alpha, bus = fit_ring(commbench, grad_bytes)
        out["ring_fit"] = {"alpha_us": round(alpha * 1e6, 2), "bus_gbps": round(bus, 4)}
        out["projection"] = project(base.step_ms / 1000, grad_bytes, alpha, bus,
                                    per_rank_batch, project_to)
    return out


def run_scale(base: TrainConfig, worlds: list[int], per_rank_batch: int, out: Path,
              port: Callable[[], int], host: str = "127.0.0.1",
              hooks: tuple[str, ...] = ("none", "bf16"),
              project_to: tuple[int, ...] = (1, 2, 8, 64, 512)) -> dict[str, Any]:
    """Launch each measured point under torchrun; returns `summarize`'s document."""
    from disttrain.errors import DisttrainError
    from disttrain.launch import LaunchSpec, launch, worker_error
    from disttrain.model import build_model

    points: list[ScalePoint] = []
    commbench: list[dict[str, Any]] = []
    top = max(worlds)
    for world in sorted(set([1, *worlds])):
        for hook in hooks if world > 1 else ("none",):
            cfg = scale_configs(base, per_rank_batch, world, hook)
            bench = {"iters": 10} if (world == top and hook == "none" and world > 1) else None
            spec = LaunchSpec(nproc=world, port=port(), host=host, max_restarts=0,
                              out=out / cfg.name, threads=1)
            result = launch(spec, [cfg], commbench=bench)
            if result.returncode != 0 or cfg.name not in result.reports:
                raise DisttrainError(f"scale run {cfg.name} failed (exit {result.returncode}): "
                                     f"{worker_error(result) or 'see ' + str(spec.out)}")
            report = result.reports[cfg.name]
            points.append(ScalePoint(world, hook, report["samples_per_s"], report["step_ms"]))
            if bench is not None:
                commbench = result.reports["commbench"]["results"]
    model = build_model(base.in_features, base.hidden, base.blocks, base.seed)
    grad_bytes = float(sum(p.numel() for p in model.parameters()) * 4)
    return summarize(points, commbench, grad_bytes, per_rank_batch, list(project_to))
