"""Strategies: how the one training loop's model is wrapped, and how gradients are synced.

* `single`: the plain module.
* `ddp`: `DistributedDataParallel` with `bucket_cap_mb` and an optional comm hook (fp16/bf16
  compression, PowerSGD); `no_sync()` skips the all-reduce on all but the last micro-step.
* `fsdp`: FSDP2 `fully_shard` on every block and then on the root, parameters as DTensors
  sharded on dim 0; with `fsdp_bf16`, a `MixedPrecisionPolicy` of bf16 parameters and fp32
  gradient reduction. `set_requires_gradient_sync(False)` plays `no_sync()`'s part.
* `ray`: the `ddp` wrapping inside Ray Train workers (see `ray_train.py`).
* `deepspeed`: not available on this machine (see the README).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from disttrain.config import TrainConfig
from disttrain.errors import ConfigurationError, UnavailableError
from disttrain.runtime import DistContext


def wrap(model: nn.Module, cfg: TrainConfig, ctx: DistContext) -> nn.Module:
    """Move `model` to the device and wrap it for `cfg.strategy`."""
    model = model.to(ctx.device)
    strategy = "ddp" if cfg.strategy == "ray" else cfg.strategy
    if strategy == "deepspeed":
        raise UnavailableError("strategy deepspeed: DeepSpeed is not installed in this "
                               "environment (optional; see the README)")
    if strategy == "single":
        return model
    if not ctx.distributed and strategy in {"ddp", "fsdp"}:
        raise ConfigurationError(f"strategy {strategy} needs a process group: run it "
                                 "with `disttrain launch` (torchrun)")
    if strategy == "ddp":
        return wrap_ddp(model, cfg, ctx)
    if strategy == "fsdp":
        return wrap_fsdp(model, cfg, ctx)
    raise ConfigurationError(f"unknown strategy {cfg.strategy!r}")


def wrap_ddp(model: nn.Module, cfg: TrainConfig, ctx: DistContext) -> nn.Module:
    from torch.nn.parallel import DistributedDataParallel

    # BEGIN SOLUTION
    devices = [ctx.device.index] if ctx.device.type == "cuda" else None
    ddp = DistributedDataParallel(model, device_ids=devices, bucket_cap_mb=cfg.bucket_cap_mb)
    register_comm_hook(ddp, cfg)
    return ddp
    # END SOLUTION


def register_comm_hook(ddp: nn.Module, cfg: TrainConfig) -> None:
    """fp16/bf16: compress each bucket before the all-reduce; powersgd: low-rank gradients."""
    from torch.distributed.algorithms.ddp_comm_hooks import default_hooks, powerSGD_hook

    # BEGIN SOLUTION
    if cfg.comm_hook == "none":
        return
    if cfg.comm_hook == "fp16":
        ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)  # type: ignore[operator]
    elif cfg.comm_hook == "bf16":
        ddp.register_comm_hook(None, default_hooks.bf16_compress_hook)  # type: ignore[operator]
    elif cfg.comm_hook == "powersgd":
        state = powerSGD_hook.PowerSGDState(process_group=None,
                                            matrix_approximation_rank=cfg.powersgd_rank,
                                            start_powerSGD_iter=2, random_seed=cfg.seed)
        ddp.register_comm_hook(state, powerSGD_hook.powerSGD_hook)  # type: ignore[operator]
    # END SOLUTION


def wrap_fsdp(model: nn.Module, cfg: TrainConfig, ctx: DistContext) -> nn.Module:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    mesh = init_device_mesh(ctx.device.type, (ctx.world_size,))
    kwargs: dict[str, Any] = {"mesh": mesh}
    if cfg.fsdp_bf16:
        kwargs["mp_policy"] = MixedPrecisionPolicy(param_dtype=torch.bfloat16,
                                                   reduce_dtype=torch.float32)
    # BEGIN SOLUTION
    for block in model.blocks:  # type: ignore[union-attr]
        fully_shard(block, **kwargs)
    fully_shard(model, **kwargs)
    # END SOLUTION
    return model


@contextlib.contextmanager
def skip_grad_sync(model: nn.Module, skip: bool) -> Iterator[None]:
    """No gradient all-reduce for this micro-step (gradient accumulation)."""
    # BEGIN SOLUTION
    if not skip:
        yield
        return
    no_sync = getattr(model, "no_sync", None)
    if no_sync is not None:  # DDP
        with no_sync():
            yield
        return
    setter = getattr(model, "set_requires_gradient_sync", None)
    if setter is not None:  # FSDP2
        setter(False)
        try:
            yield
        finally:
            setter(True)
        return
    yield
    # END SOLUTION


def local_shards(model: nn.Module) -> dict[str, dict[str, Any]]:
    """For each parameter: its type, global shape and the shape this rank holds."""
    out: dict[str, dict[str, Any]] = {}
    for name, param in model.named_parameters():
        local = param.to_local() if hasattr(param, "to_local") else param
        out[name] = {"type": type(param).__name__, "global": list(param.shape),
                     "local": list(local.shape), "dtype": str(local.dtype)}
    return out


def all_equal(tensor: torch.Tensor) -> bool:
    """True when every rank holds the same values of `tensor` (used by `verify`)."""
    if not (dist.is_available() and dist.is_initialized()):
        return True
    gathered = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, tensor.contiguous())
    return all(torch.equal(gathered[0], other) for other in gathered[1:])
