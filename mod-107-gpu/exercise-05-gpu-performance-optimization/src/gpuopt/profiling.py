"""`gpuopt profile`: torch.profiler around the instrumented training loop.

Writes into one run directory (published atomically, see runs.py):
  trace/gpuopt.pt.trace.json  Chrome/Kineto trace of the active steps (HTA and Perfetto read it)
  key_averages.txt            the profiler's table, sorted by self time
  memory_timeline.json        bytes per category (parameter, optimizer state, activation, ...)
  run.json                    workload, spec, device and the trainer's own per-step timings
  memory_snapshot.pickle      CUDA only: torch.cuda.memory snapshot (pytorch.org/memory_viz)
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from aiinfra_shared.io import atomic_write_json, atomic_write_text
from torch.profiler import ProfilerActivity, profile, schedule

from gpuopt.recipes import TrainSpec
from gpuopt.runs import publish_dir
from gpuopt.trainer import StepRecord, Trainer
from gpuopt.workloads import Workload

TRACE_NAME = "gpuopt.pt.trace.json"
# torch.profiler._memory_profiler's categories, in its index order (index 0 is unused).
MEMORY_CATEGORIES = ("parameter", "optimizer_state", "input", "temporary", "activation",
                     "gradient", "autograd_detail", "unknown")


@dataclass(frozen=True)
class ProfileOptions:
    wait: int = 1
    warmup: int = 1
    active: int = 3
    record_shapes: bool = True
    profile_memory: bool = True
    with_flops: bool = True
    with_stack: bool = True  # the memory timeline needs stacks to categorise tensors
    memory_snapshot: bool = True  # CUDA only

    @property
    def total_steps(self) -> int:
        return self.wait + self.warmup + self.active


def summarize_memory_timeline(path: Path) -> dict[str, Any]:
    """Peak bytes per category and the peak of the total, from export_memory_timeline JSON."""
    times, sizes = json.loads(path.read_text())
    peaks = dict.fromkeys(MEMORY_CATEGORIES, 0)
    peak_total = 0
    for row in sizes:
        values = row[1:1 + len(MEMORY_CATEGORIES)]
        for name, value in zip(MEMORY_CATEGORIES, values, strict=False):
            peaks[name] = max(peaks[name], int(value))
        peak_total = max(peak_total, sum(int(v) for v in values))
    return {"peak_bytes_by_category": peaks, "peak_total_bytes": peak_total,
            "samples": len(times)}


def profile_run(workload: Workload, spec: TrainSpec, out: Path, *, device: str = "cpu",
                options: ProfileOptions = ProfileOptions(), seed: int = 0,
                recipes: list[str] | None = None) -> dict[str, Any]:
    """Profile `options.total_steps` steps of `workload` under `spec`; returns run.json's data."""
    trainer = Trainer(workload, spec, device=device, seed=seed)
    activities = [ProfilerActivity.CPU]
    cuda = device.startswith("cuda")
    if cuda:
        activities.append(ProfilerActivity.CUDA)
    records: list[StepRecord] = []
    traces: list[Path] = []
    with publish_dir(out) as staging:
        (staging / "trace").mkdir()

        def on_ready(prof: profile) -> None:
            path = staging / "trace" / TRACE_NAME
            prof.export_chrome_trace(str(path))
            traces.append(path)

        # BEGIN SOLUTION
        if cuda and options.memory_snapshot:
            torch.cuda.memory._record_memory_history(max_entries=100_000)
        started = time.perf_counter()
        with profile(activities=activities,
                     schedule=schedule(wait=options.wait, warmup=options.warmup,
                                       active=options.active, repeat=1),
                     record_shapes=options.record_shapes,
                     profile_memory=options.profile_memory,
                     with_flops=options.with_flops, with_stack=options.with_stack,
                     on_trace_ready=on_ready) as prof:
            for _ in range(options.total_steps):
                records.append(trainer.step())
                prof.step()
        wall = time.perf_counter() - started
        if cuda and options.memory_snapshot:
            torch.cuda.memory._dump_snapshot(  # type: ignore[no-untyped-call]
                str(staging / "memory_snapshot.pickle"))
            torch.cuda.memory._record_memory_history(enabled=None)
        table = prof.key_averages().table(sort_by="self_cuda_time_total" if cuda
                                          else "self_cpu_time_total", row_limit=40)
        atomic_write_text(staging / "key_averages.txt", table + "\n")
        flops_by_op: dict[str, float] = {}
        for event in prof.events():
            if event.flops:
                flops_by_op[event.name] = flops_by_op.get(event.name, 0.0) + float(event.flops)
        memory: dict[str, Any] | None = None
        if options.profile_memory and options.record_shapes and options.with_stack:
            with tempfile.TemporaryDirectory() as tmp:
                raw = Path(tmp) / "timeline.json"
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)
                    prof.export_memory_timeline(str(raw), device="cuda:0" if cuda else "cpu")
                memory = summarize_memory_timeline(raw)
            atomic_write_json(staging / "memory_timeline.json", memory)
        # END SOLUTION
        if not traces:
            raise RuntimeError("the profiler produced no trace (schedule never became active)")
        active = records[options.wait + options.warmup:]
        run = {
            "schema": "gpuopt-run/1", "workload": workload.name,
            "batch_size": workload.batch_size, "device": device,
            "has_conv": workload.has_conv,
            "checkpointable": workload.enable_checkpointing is not None,
            "recipes": recipes or [], "spec": spec.describe(), "seed": seed,
            "torch": torch.__version__, "options": asdict(options),
            "wall_s": wall, "steps": [asdict(r) for r in records],
            "active_steps": [r.step for r in active],
            "peak_activation_bytes": trainer.peak_activation_bytes,
            "peak_device_bytes": trainer.peak_device_bytes(),
            "memory_timeline": memory, "pid": os.getpid(),
            "flops_total": sum(flops_by_op.values()), "flops_by_op": flops_by_op,
        }
        atomic_write_json(staging / "run.json", run)
    return run
