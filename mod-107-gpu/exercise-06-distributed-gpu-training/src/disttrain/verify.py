"""`disttrain verify`: the ranks agree, and DDP/FSDP reach the single-process weights.

With SGD, no dropout and the same global batch, data parallelism is an implementation
detail: the averaged gradient of 2 ranks x 32 samples is the gradient of 64 samples, up to
the order of float additions. The tolerance (default atol 1e-5) covers that reordering and
nothing else; FSDP runs with fp32 parameters here (its bf16 policy changes the numerics by
design and is checked on the loss instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from disttrain.config import TrainConfig
from disttrain.errors import DisttrainError


def max_abs_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """Largest |a - b| over all tensors; infinite when the names or shapes differ."""
    # BEGIN SOLUTION
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        return float("inf")
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    # END SOLUTION


def run_verify(nproc: int, steps: int, atol: float, out: Path, port: int) -> dict[str, Any]:
    from disttrain.launch import LaunchSpec, launch, worker_error
    from disttrain.runtime import init_distributed
    from disttrain.train import train

    base = TrainConfig(steps=steps, global_batch=16 * nproc * 2, accumulation_steps=2)
    runs = [base.overrides(name="verify-ddp", strategy="ddp"),
            base.overrides(name="verify-fsdp", strategy="fsdp", fsdp_bf16=False)]
    result = launch(LaunchSpec(nproc=nproc, port=port, out=out, max_restarts=0), runs)
    if result.returncode != 0:
        raise DisttrainError(f"verify: torchrun exited {result.returncode}: "
                             f"{worker_error(result) or 'see ' + str(out)}")
    single = train(base.overrides(name="verify-single", strategy="single",
                                  accumulation_steps=1), init_distributed("cpu"))
    rows = []
    for cfg in runs:
        report = result.reports[cfg.name]
        weights = torch.load(out / f"{cfg.name}.weights.pt")
        diff = max_abs_diff(weights, single.weights)
        rows.append({"strategy": cfg.strategy, "ranks_agree": report["ranks_agree"],
                     "max_abs_diff": diff,
                     "ok": bool(report["ranks_agree"] and diff <= atol)})
    return {"atol": atol, "world_size": nproc, "runs": rows, "ok": all(r["ok"] for r in rows)}
