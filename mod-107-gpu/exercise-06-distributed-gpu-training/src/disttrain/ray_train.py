"""Strategy `ray`: the same loop inside Ray Train's `TorchTrainer`.

Ray Train starts `num_workers` actors, builds the gloo/NCCL process group itself and runs
`train_loop_per_worker` in each; our loop then wraps the model in DDP as usual. Checkpoints
go through Ray: after each complete checkpoint every worker calls `ray.train.report`, rank 0
with `Checkpoint.from_directory(step dir)`. With `FailureConfig(max_failures=1)` a killed
worker restarts the whole group, and `ray.train.get_checkpoint()` hands the newest
checkpoint Ray *registered* to the new attempt; registration lags the report, so the resume
point is "a reported checkpoint", not necessarily the last one.

The local cluster is pinned to 127.0.0.1 (`_node_ip_address`, and
`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`): otherwise Ray advertises the host's interface address,
which a sandbox or a laptop on another network may not route, and the workers' rendezvous
(MASTER_ADDR) would point there.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from disttrain.config import TrainConfig
from disttrain.errors import UnavailableError


def _loop_per_worker(config: dict[str, Any]) -> None:
    import ray.train

    from disttrain.runtime import init_distributed
    from disttrain.train import train
    from disttrain.worker import write_result

    cfg = TrainConfig.model_validate(config["cfg"])
    out = Path(config["out"])
    ctx = init_distributed(cfg.device)

    def report(step: int, path: Path, loss: float) -> None:
        checkpoint = ray.train.Checkpoint.from_directory(str(path)) if ctx.is_main else None
        ray.train.report({"step": step, "loss": loss}, checkpoint=checkpoint)

    restored = ray.train.get_checkpoint()
    with (restored.as_directory() if restored else contextlib.nullcontext(None)) as where:
        result = train(cfg, ctx, resume_from=Path(where) if where else None,
                       on_checkpoint=report)
    if ctx.is_main:
        write_result(out, result.as_report(), result.weights)


def _ray_environment(threads: int) -> None:
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")
    # Under `uv run`, Ray would start workers through `uv run` again (its uv runtime-env hook)
    # from a copy of the working dir: use this interpreter and its environment as they are.
    os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"
    os.environ["OMP_NUM_THREADS"] = str(threads)  # workers inherit the raylet's environment


def run_ray(cfg: TrainConfig, workers: int, out: Path, max_failures: int = 1,
            num_cpus: int | None = None) -> dict[str, Any]:
    """Train `cfg` on `workers` Ray Train workers; returns the run report (rank 0's)."""
    _ray_environment(cfg.threads or 1)  # before importing ray: it reads these at import
    try:
        import ray
        from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
        from ray.train.torch import TorchConfig, TorchTrainer
    except ImportError as exc:
        raise UnavailableError("strategy ray needs Ray Train: uv sync --extra ray") from exc
    import json

    cfg.per_rank_batch(workers)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="stage-", dir=out))
    cfg = cfg.overrides(strategy="ray", checkpoint_dir=cfg.checkpoint_dir or str(staging))
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=num_cpus or max(workers, 2), include_dashboard=False,
                 _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        # BEGIN SOLUTION
        trainer = TorchTrainer(
            _loop_per_worker,
            train_loop_config={"cfg": cfg.model_dump(), "out": str(out)},
            torch_config=TorchConfig(backend="nccl" if cfg.device == "cuda" else "gloo"),
            scaling_config=ScalingConfig(num_workers=workers, use_gpu=cfg.device == "cuda"),
            run_config=RunConfig(name=cfg.name, storage_path=str(out / "ray"),
                                 failure_config=FailureConfig(max_failures=max_failures),
                                 checkpoint_config=CheckpointConfig(num_to_keep=cfg.keep_last)),
        )
        result = trainer.fit()
        # END SOLUTION
    finally:
        if started_here:
            ray.shutdown()
    report = json.loads((out / f"{cfg.name}.json").read_text())
    report["ray_checkpoint"] = getattr(result.checkpoint, "path", None)
    return dict(report)
