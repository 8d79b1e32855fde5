"""The process torchrun starts on every rank: run a plan of training runs, write reports.

    python -m disttrain.worker --plan plan.json --out DIR

`plan.json` is `{"runs": [TrainConfig, ...]}`; the runs share one process group (that is how
one torchrun launch in the tests covers DDP, FSDP2 and the straggler case). Rank 0 writes
`DIR/<name>.json` (the run report) and `DIR/<name>.weights.pt` (the full final weights).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import torch
from aiinfra_shared.io import atomic_write_bytes, atomic_write_json

from disttrain.config import TrainConfig
from disttrain.errors import DisttrainError
from disttrain.runtime import init_distributed, shutdown


def write_result(out: Path, report: dict[str, Any], weights: dict[str, torch.Tensor]) -> None:
    import io

    buffer = io.BytesIO()
    torch.save(weights, buffer)
    atomic_write_bytes(out / f"{report['name']}.weights.pt", buffer.getvalue())
    atomic_write_json(out / f"{report['name']}.json", report)


def run_plan(configs: list[TrainConfig], out: Path,
             commbench: dict[str, Any] | None = None, device: str = "auto") -> bool:
    """Run the plan on this rank; True when it ran in a process group (see `main`)."""
    from disttrain.train import train

    ctx = init_distributed(configs[0].device if configs else device)
    try:
        for cfg in configs:
            result = train(cfg, ctx)
            if ctx.is_main:
                write_result(out, result.as_report(), result.weights)
        if commbench is not None and ctx.distributed:
            from disttrain.commbench import DEFAULT_SIZES, run_allreduce

            rows = run_allreduce(commbench.get("sizes") or DEFAULT_SIZES,
                                 int(commbench.get("iters", 20)), ctx.device)
            if ctx.is_main:
                atomic_write_json(out / "commbench.json",
                                  {"backend": ctx.backend, "world_size": ctx.world_size,
                                   "results": [r.as_dict() for r in rows]})
        if ctx.distributed:
            import torch.distributed as dist

            dist.barrier()  # rank 0 has written every report: from here on nobody needs a peer
    except BaseException:
        shutdown()
        raise
    if not ctx.distributed:
        shutdown()
    return ctx.distributed


def _leave(code: int) -> NoReturn:
    """End a worker of a process group without tearing gloo down.

    Destroying the group while a peer closes its connections can std::terminate in gloo's
    event loop ("terminate called without an active exception", SIGABRT): torchrun counts
    that as a failed worker and restarts the node after a successful run. After the final
    barrier there is nothing left to send, so the process leaves and the kernel closes the
    sockets."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="disttrain-worker")
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        payload = json.loads(args.plan.read_text())
        configs = [TrainConfig.model_validate(c) for c in payload["runs"]]
        args.out.mkdir(parents=True, exist_ok=True)
        distributed = run_plan(configs, args.out, payload.get("commbench"),
                               payload.get("device", "auto"))
    except DisttrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if distributed:
        _leave(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
