"""`gpuopt analyze`: per-step time split, FLOP/s against a measured peak, recommendations.

The split (CPU path): each `gpuopt/step` range of the trace is divided into the trainer's
phase ranges (data wait, host-to-device, forward, backward, optimizer); collectives found
inside a phase (nccl/gloo ops: DDP) are moved to `communication`; what the phases do not
cover (Python between phases, profiler bookkeeping) is `idle`. The categories therefore sum
to the traced step; the trace's step is checked against the trainer's own wall clock.
GPU path: additionally HTA's `get_temporal_breakdown` (compute / non-compute / idle GPU
time) and `get_idle_time_breakdown` (host wait, kernel wait, other).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd
import torch

from gpuopt.rules import Recommendation, recommend
from gpuopt.traces import COLLECTIVE_RE, LoadedRun, self_times
from gpuopt.trainer import PHASES

CATEGORIES = ("data", "h2d", "forward", "backward", "optimizer", "communication", "idle")
MATMUL_RE = r"aten::(?:mm|addmm|bmm|baddbmm|matmul|linear|_scaled_dot|convolution|conv|mkldnn)"
CONV_RE = r"aten::(?:convolution|conv|mkldnn_convolution|_convolution|cudnn_convolution)"


@dataclass
class StepSplit:
    step_us: float
    categories: dict[str, float]  # microseconds per category

    def shares(self) -> dict[str, float]:
        return {k: (v / self.step_us if self.step_us else 0.0)
                for k, v in self.categories.items()}


@dataclass
class Analysis:
    workload: str
    device: str
    recipes: list[str]
    steps: list[StepSplit]
    mean_step_s: float
    measured_step_s: float  # the trainer's wall clock for the same steps
    shares: dict[str, float]
    flops_per_step: float
    achieved_flops: float
    peak_flops: dict[str, float]
    mfu: float | None
    matmul_share: float
    conv_share: float
    ops_per_step: float
    memory: dict[str, Any] | None
    peak_activation_bytes: int | None
    recommendations: list[Recommendation] = field(default_factory=list)
    hta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["recommendations"] = [r.as_dict() for r in self.recommendations]
        return data


@lru_cache(maxsize=8)
def measure_peak_flops(device: str = "cpu", dtype: str = "float32", size: int = 1024,
                       reps: int = 5) -> float:
    """Best FLOP/s of a square matmul on `device` (the 'measured peak')."""
    # BEGIN SOLUTION
    torch_dtype = getattr(torch, dtype)
    a = torch.randn(size, size, device=device).to(torch_dtype)
    b = torch.randn(size, size, device=device).to(torch_dtype)
    torch.mm(a, b)  # warm-up (oneDNN/cuBLAS picks its kernel)
    best = float("inf")
    for _ in range(reps):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        torch.mm(a, b)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best
    # END SOLUTION


def split_steps(events: pd.DataFrame) -> list[StepSplit]:
    """One StepSplit per traced `gpuopt/step` range (see the module docstring)."""
    # BEGIN SOLUTION
    ranges = events[events["cat"] == "user_annotation"]
    steps = ranges[ranges["name"] == "gpuopt/step"].sort_values("ts")
    collectives = events[events["cat"].isin(("cpu_op",))
                         & events["name"].str.contains(COLLECTIVE_RE)]
    result = []
    for _, step in steps.iterrows():
        inside = ranges[(ranges["ts"] >= step["ts"]) & (ranges["end"] <= step["end"])]
        categories = dict.fromkeys(CATEGORIES, 0.0)
        for phase in PHASES:
            phase_rows = inside[inside["name"] == f"gpuopt/{phase}"]
            categories[phase] = float(phase_rows["dur"].sum())
            for _, row in phase_rows.iterrows():
                comm = collectives[(collectives["ts"] >= row["ts"])
                                   & (collectives["end"] <= row["end"])]
                moved = float(comm["dur"].sum())
                categories[phase] -= moved
                categories["communication"] += moved
        covered = sum(categories.values())
        categories["idle"] = max(0.0, float(step["dur"]) - covered)
        result.append(StepSplit(float(step["dur"]), categories))
    return result
    # END SOLUTION


def _op_shares(loaded: LoadedRun, steps: int, step_us: float) -> tuple[float, float, float]:
    events = loaded.events
    ops = events[events["cat"] == ("kernel" if loaded.has_gpu_kernels else "cpu_op")]
    own = self_times(events)
    selfs = own.reindex(ops.index).fillna(0.0)
    total = step_us * steps or 1.0
    matmul = float(selfs[ops["name"].str.contains(MATMUL_RE, regex=True)].sum())
    conv = float(selfs[ops["name"].str.contains(CONV_RE)].sum())
    if loaded.has_gpu_kernels:  # kernel names: gemm / conv kernels
        matmul = float(selfs[ops["name"].str.contains("gemm|conv|sm80|sm90|cutlass",
                                                      case=False)].sum())
        conv = float(selfs[ops["name"].str.contains("conv", case=False)].sum())
    return min(1.0, matmul / total), min(1.0, conv / total), len(ops) / max(steps, 1)


def _hta_gpu(loaded: LoadedRun) -> dict[str, Any]:
    """HTA's GPU analyses (only meaningful, and only called, with GPU kernels in the trace)."""
    import contextlib
    import io

    out: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        temporal = loaded.analyzer.get_temporal_breakdown(visualize=False)
        idle = loaded.analyzer.get_idle_time_breakdown(visualize=False)
    out["temporal_breakdown"] = temporal.to_dict(orient="records")
    idle_frame = idle[0] if isinstance(idle, tuple) else idle
    out["idle_time_breakdown"] = idle_frame.to_dict(orient="records")
    return out


def analyze_run(loaded: LoadedRun, *, include_compile: bool = False) -> Analysis:
    """The split, FLOP/s and ranked recommendations of one profiled run."""
    run = loaded.run
    steps = split_steps(loaded.events)
    if not steps:
        from gpuopt.errors import TraceError

        raise TraceError(f"{loaded.path}: the trace holds no complete gpuopt/step range")
    n = len(steps)
    mean_us = sum(s.step_us for s in steps) / n
    totals = {c: sum(s.categories[c] for s in steps) for c in CATEGORIES}
    shares = {c: totals[c] / (mean_us * n) for c in CATEGORIES}
    active = set(run.get("active_steps", []))
    measured = [s["total_s"] for s in run["steps"] if s["step"] in active][-n:] or [
        s["total_s"] for s in run["steps"]]
    device = run["device"]
    peaks = {"float32": measure_peak_flops(device, "float32")}
    peaks["bfloat16"] = measure_peak_flops(device, "bfloat16")
    flops_per_step = loaded.flops_total / n
    achieved = flops_per_step / (mean_us / 1e6) if mean_us else 0.0
    matmul_share, conv_share, ops_per_step = _op_shares(loaded, n, mean_us)
    amp = (run.get("spec") or {}).get("amp")
    peak_for = peaks["bfloat16"] if amp == "bf16" else peaks["float32"]
    analysis = Analysis(
        workload=run["workload"], device=device, recipes=list(run.get("recipes", [])),
        steps=steps, mean_step_s=mean_us / 1e6,
        measured_step_s=sum(measured) / len(measured), shares=shares,
        flops_per_step=flops_per_step, achieved_flops=achieved, peak_flops=peaks,
        mfu=achieved / peak_for if peak_for else None, matmul_share=matmul_share,
        conv_share=conv_share, ops_per_step=ops_per_step, memory=run.get("memory_timeline"),
        peak_activation_bytes=run.get("peak_activation_bytes"))
    if loaded.has_gpu_kernels:
        analysis.hta = _hta_gpu(loaded)
    analysis.recommendations = recommend(analysis, run, include_compile=include_compile)
    return analysis
