"""Rules: the step-time split in, ranked recommendations with an expected gain out.

Each rule reads the shares of the split (and what the run already uses) and estimates the
speed-up with Amdahl's law over the part it attacks. The estimates are deliberately simple
and stated; `gpuopt tune` measures the real gain next to each estimate.

| rule | fires when | estimate |
|---|---|---|
| dataloader:N | data wait >= 15% of the step, no workers | step / max(compute, data / N) |
| amp-bf16 | fwd+bwd >= 50%, matmul >= 40%, bf16 peak >= 1.3x fp32 | Amdahl: matmul share |
| channels-last | conv model, conv ops >= 20% | Amdahl: conv share, 1.25x faster |
| fused-optim | optimizer >= 10% | Amdahl: optimizer, 2x faster |
| compile | >= 200 ops per step, or idle >= 10% | Amdahl: idle + non-matmul share, 1.3x |
| tf32 (GPU) | fp32 matmul share >= 30% | Amdahl: matmul share, 2x |
| compile-cudagraphs (GPU) | GPU idle >= 20% | Amdahl on idle |
| checkpoint (memory) | activations >= 40% of peak memory | memory, not speed: ~0.75x speed |
"""

from __future__ import annotations

import math
import shutil
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gpuopt.analyze import Analysis


# Below this share of matmul/conv time, autocast's casts and bf16 pointwise ops eat the gain
# on CPU (measured: the tiny Llama, 23% matmul, ran 0.74x with bf16 autocast).
MIN_AMP_MATMUL_SHARE = 0.4


@dataclass(frozen=True)
class Recommendation:
    recipe: str
    kind: str  # "speed" or "memory"
    reason: str
    expected_speedup: float
    expected_memory_ratio: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def amdahl(share: float, factor: float) -> float:
    """Speed-up of the whole when `share` of it gets `factor` times faster."""
    share = min(max(share, 0.0), 1.0)
    return 1.0 / ((1.0 - share) + share / factor)


def recommend(analysis: Analysis, run: dict[str, Any], *, include_compile: bool = False
              ) -> list[Recommendation]:
    """Ranked recommendations (speed first, by expected speed-up; then memory)."""
    # BEGIN SOLUTION
    spec = run.get("spec") or {}
    loader = spec.get("loader") or {}
    shares = analysis.shares
    cuda = analysis.device.startswith("cuda")
    recs: list[Recommendation] = []
    data = shares["data"]
    if data >= 0.15 and not loader.get("workers"):
        compute = max(1e-9, 1.0 - data)
        workers = min(8, max(2, math.ceil(data / compute) + 1))
        gain = 1.0 / max(compute, data / workers)
        recs.append(Recommendation(f"dataloader:{workers}", "speed",
                                   f"data wait is {data:.0%} of the step: {workers} workers "
                                   "overlap loading with compute", gain))
    if cuda and shares["h2d"] >= 0.05 and not loader.get("pin_memory"):
        recs.append(Recommendation("dataloader", "speed",
                                   f"host-to-device copies are {shares['h2d']:.0%}: pinned "
                                   "memory + non_blocking copies", amdahl(shares["h2d"], 2.0)))
    compute_share = shares["forward"] + shares["backward"]
    bf16_ratio = analysis.peak_flops.get("bfloat16", 0.0) / max(
        analysis.peak_flops.get("float32", 1.0), 1.0)
    if (spec.get("amp") is None and compute_share >= 0.5 and bf16_ratio >= 1.3
            and analysis.matmul_share >= MIN_AMP_MATMUL_SHARE):
        recs.append(Recommendation("amp-bf16", "speed",
                                   f"forward+backward are {compute_share:.0%}, matmul/conv ops "
                                   f"{analysis.matmul_share:.0%}; measured bf16 matmul peak "
                                   f"{bf16_ratio:.1f}x fp32",
                                   amdahl(analysis.matmul_share, bf16_ratio)))
    if (run.get("has_conv") and not spec.get("channels_last")
            and analysis.conv_share >= 0.2):
        recs.append(Recommendation("channels-last", "speed",
                                   f"convolutions are {analysis.conv_share:.0%} of the step: "
                                   "NHWC avoids layout reorders", amdahl(analysis.conv_share,
                                                                         1.25)))
    if shares["optimizer"] >= 0.10 and spec.get("optimizer_impl", "default") == "default":
        recs.append(Recommendation("fused-optim", "speed",
                                   f"the optimizer is {shares['optimizer']:.0%} of the step: "
                                   "one fused kernel instead of one per parameter",
                                   amdahl(shares["optimizer"], 2.0)))
    compilable = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
    if (include_compile and compilable and spec.get("compile_mode") is None
            and (analysis.ops_per_step >= 200 or shares["idle"] >= 0.10)):
        overhead = shares["idle"] + max(0.0, compute_share - analysis.matmul_share)
        recs.append(Recommendation("compile", "speed",
                                   f"{analysis.ops_per_step:.0f} ops per step: inductor fuses "
                                   "pointwise ops", amdahl(overhead, 1.3)))
    if cuda and not spec.get("tf32") and spec.get("amp") is None and (
            analysis.matmul_share >= 0.3):
        recs.append(Recommendation("tf32", "speed", "fp32 matmuls dominate: TF32 tensor cores",
                                   amdahl(analysis.matmul_share, 2.0)))
    gpu_idle = _gpu_idle_share(analysis)
    if cuda and include_compile and gpu_idle >= 0.2 and spec.get("compile_mode") is None:
        recs.append(Recommendation("compile-cudagraphs", "speed",
                                   f"the GPU idles {gpu_idle:.0%}: CUDA graphs remove launch "
                                   "gaps", amdahl(gpu_idle, 4.0)))
    recs.sort(key=lambda r: r.expected_speedup, reverse=True)
    memory = analysis.memory or {}
    peaks = memory.get("peak_bytes_by_category") or {}
    total = memory.get("peak_total_bytes") or 0
    if (run.get("checkpointable") and not spec.get("checkpointing") and total
            and peaks.get("activation", 0) >= 0.4 * total):
        share = peaks["activation"] / total
        recs.append(Recommendation("checkpoint", "memory",
                                   f"activations are {share:.0%} of peak memory: recompute "
                                   "them in backward", 0.75, 1.0 - 0.6 * share))
    return recs
    # END SOLUTION


def _gpu_idle_share(analysis: Analysis) -> float:
    rows = analysis.hta.get("temporal_breakdown") or []
    if not rows:
        return 0.0
    value = rows[0].get("idle_time_pctg", 0.0)
    return float(value) / 100.0


def recommended_set(recs: list[Recommendation], min_gain: float = 1.05) -> list[str]:
    """The speed recipes worth combining: expected gain >= `min_gain`, one per recipe family."""
    chosen: list[str] = []
    families: set[str] = set()
    for rec in recs:
        family = rec.recipe.split(":")[0]
        if rec.kind == "speed" and rec.expected_speedup >= min_gain and family not in families:
            chosen.append(rec.recipe)
            families.add(family)
    return chosen
