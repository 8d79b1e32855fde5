"""`gpuopt tune`: baseline vs each recipe vs the recommended set, interleaved, with a loss guard.

Every variant gets its own Trainer built from the same seed (same initial weights, same
data order). Warm-up steps (torch.compile's compilation lands here) are timed apart. Then
`rounds` rounds run `steps` steps of every variant, the order reversed every other round
(A-B-C, C-B-A: slow drifts of a shared machine fall on all variants alike). The guard:
the mean loss over steps N-2..N must stay within `loss_tolerance` (relative) of the
baseline's over the same steps.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from aiinfra_shared.bench import machine_info, summarize

from gpuopt.recipes import compose
from gpuopt.trainer import PHASES, StepRecord, Trainer
from gpuopt.workloads import Workload


@dataclass
class Variant:
    name: str
    recipes: list[str]
    trainer: Trainer
    warmup_s: float = 0.0
    records: list[StepRecord] = field(default_factory=list)  # all steps, warm-up included
    timed: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class TuneOptions:
    rounds: int = 3
    steps: int = 5
    warmup: int = 2
    loss_steps: int = 6
    loss_tolerance: float = 0.05
    seed: int = 0


def cpu_flags() -> dict[str, Any]:
    """CPU model and the flags bf16 speed depends on (AMX, AVX-512 BF16)."""
    flags: set[str] = set()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            elif line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"model": model, "amx_bf16": "amx_bf16" in flags,
            "avx512_bf16": "avx512_bf16" in flags, "avx512f": "avx512f" in flags}


def _loss_at(records: list[StepRecord], n: int) -> float:
    window = [r.loss for r in records[max(0, n - 3):n]]
    return statistics.fmean(window)


def run_tune(workload: Workload, variants_spec: dict[str, list[str]], *, device: str,
             options: TuneOptions, expected: dict[str, float] | None = None,
             progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Measure every variant; returns the report document (see report.py for rendering)."""
    expected = expected or {}
    variants = []
    for name, recipes in variants_spec.items():
        spec, applied = compose(recipes, workload, device)
        variants.append(Variant(name, applied, Trainer(workload, spec, device=device,
                                                       seed=options.seed)))
    # BEGIN SOLUTION
    for variant in variants:  # warm-up, compile time apart
        start = time.perf_counter()
        variant.records.extend(variant.trainer.run(options.warmup))
        variant.warmup_s = time.perf_counter() - start
    for round_index in range(options.rounds):
        order = variants if round_index % 2 == 0 else list(reversed(variants))
        for variant in order:
            records = variant.trainer.run(options.steps)
            variant.records.extend(records)
            variant.timed.extend(r.total_s for r in records)
            if progress:
                progress(1)
    # the loss guard needs loss_steps steps of each variant
    for variant in variants:
        missing = options.loss_steps - len(variant.records)
        if missing > 0:
            variant.records.extend(variant.trainer.run(missing))
    baseline = variants[0]
    base_median = statistics.median(baseline.timed)
    base_loss = _loss_at(baseline.records, options.loss_steps)
    rows = []
    for variant in variants:
        stats = summarize(variant.timed)
        timed_records = variant.records[options.warmup:options.warmup + len(variant.timed)]
        phase_totals = {p: sum(r.phases[p] for r in timed_records) for p in PHASES}
        total = sum(r.total_s for r in timed_records) or 1.0
        loss = _loss_at(variant.records, options.loss_steps)
        loss_delta = abs(loss - base_loss) / max(abs(base_loss), 1e-12)
        rows.append({
            "variant": variant.name, "recipes": variant.recipes,
            "median_step_s": stats.median, "ci_low_s": stats.ci_low, "ci_high_s": stats.ci_high,
            "confidence": stats.confidence, "n": stats.n,
            "throughput_samples_s": workload.batch_size / stats.median,
            "speedup": base_median / stats.median,
            "expected_speedup": expected.get(variant.name),
            "warmup_s": variant.warmup_s,
            "phase_shares": {p: v / total for p, v in phase_totals.items()},
            "peak_activation_bytes": variant.trainer.peak_activation_bytes,
            "peak_device_bytes": variant.trainer.peak_device_bytes(),
            "loss": loss, "loss_rel_delta": loss_delta,
            "loss_ok": loss_delta <= options.loss_tolerance,
        })
    # END SOLUTION
    return {
        "schema": "gpuopt-tune/1", "workload": workload.name, "device": device,
        "batch_size": workload.batch_size, "options": options.__dict__,
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "cpu": cpu_flags(), "machine": machine_info(), "variants": rows,
    }
