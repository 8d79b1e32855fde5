"""The training loop every command runs, instrumented per phase.

Each step is one `gpuopt/step` range holding `gpuopt/data` (waiting for the DataLoader),
`gpuopt/h2d` (host-to-device copies), `gpuopt/forward` (incl. the loss), `gpuopt/backward`
and `gpuopt/optimizer` ranges: `torch.profiler.record_function` for the Kineto trace, plus
NVTX ranges on CUDA for Nsight Systems. The same boundaries feed wall-clock timers (with a
CUDA synchronize at each boundary on GPU, so a phase's time is its own work).
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from gpuopt.recipes import TrainSpec
from gpuopt.workloads import Batch, Workload

PHASES = ("data", "h2d", "forward", "backward", "optimizer")


@dataclass
class StepRecord:
    step: int
    total_s: float
    phases: dict[str, float]
    loss: float
    samples: int


@dataclass
class ActivationMeter:
    """Peak bytes of tensors autograd saves for backward (parameters excluded).

    Counted through `torch.autograd.graph.saved_tensors_hooks`: a storage counts once, and the
    count restarts with each micro-batch (its graph is freed by its backward). Checkpointed
    regions save nothing outside their inputs, which is exactly what the recipe buys.
    """

    param_ptrs: set[int] = field(default_factory=set)
    live: dict[int, int] = field(default_factory=dict)
    peak: int = 0

    def reset(self) -> None:
        self.live.clear()

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in self.param_ptrs and ptr not in self.live:
            self.live[ptr] = storage.nbytes()
            self.peak = max(self.peak, sum(self.live.values()))
        return tensor

    @staticmethod
    def unpack(tensor: torch.Tensor) -> torch.Tensor:
        return tensor


def _seed_worker(_worker_id: int) -> None:
    torch.set_num_threads(1)  # workers share the cores with the training process


def build_loader(workload: Workload, spec: TrainSpec, seed: int) -> DataLoader[Batch]:
    """The DataLoader for `spec.loader` (seeded shuffle: same order for every config)."""
    loader = spec.loader
    # More workers than cores is deliberate for I/O-bound datasets: silence torch's hint.
    warnings.filterwarnings("ignore", message="This DataLoader will create")
    kwargs: dict[str, Any] = {}
    if loader.workers > 0:
        kwargs.update(num_workers=loader.workers, persistent_workers=loader.persistent_workers,
                      worker_init_fn=_seed_worker)
        if loader.prefetch_factor is not None:
            kwargs["prefetch_factor"] = loader.prefetch_factor
    return DataLoader(workload.build_dataset(), batch_size=workload.batch_size, shuffle=True,
                      drop_last=True, pin_memory=loader.pin_memory,
                      generator=torch.Generator().manual_seed(seed), **kwargs)


def build_optimizer(workload: Workload, model: nn.Module, impl: str) -> torch.optim.Optimizer:
    """SGD (momentum 0.9) or AdamW with the for-loop, foreach or fused implementation."""
    # BEGIN SOLUTION
    flags: dict[str, Any] = {"foreach": False}
    if impl == "foreach":
        flags = {"foreach": True}
    elif impl == "fused":
        flags = {"fused": True}
    params = list(model.parameters())
    try:
        if workload.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=workload.lr, **flags)
        return torch.optim.SGD(params, lr=workload.lr, momentum=0.9, **flags)
    except (RuntimeError, TypeError, ValueError):
        if impl != "fused":
            raise
        return build_optimizer(workload, model, "foreach")  # no fused kernel for this device
    # END SOLUTION


class Trainer:
    """One model + optimizer + loader configured by a `TrainSpec`, stepped on demand."""

    def __init__(self, workload: Workload, spec: TrainSpec, device: str = "cpu", seed: int = 0,
                 measure_activations: bool = True) -> None:
        self.workload, self.spec, self.device = workload, spec, torch.device(device)
        self.cuda = self.device.type == "cuda"
        if spec.tf32 and self.cuda:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        torch.manual_seed(seed)
        model = workload.build_model()
        if spec.checkpointing:
            assert workload.enable_checkpointing is not None
            workload.enable_checkpointing(model)
        model = model.to(self.device)
        if spec.channels_last:
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        model.train()
        self.model = model
        self.optimizer = build_optimizer(workload, model, spec.optimizer_impl)
        self.forward_model: Any = model
        if spec.compile_mode is not None:
            self.forward_model = torch.compile(model, mode=spec.compile_mode)
        self.scaler = torch.amp.GradScaler("cuda") if spec.amp == "fp16" else None
        self.loader = build_loader(workload, spec, seed)
        self._iterator: Iterator[Batch] | None = None
        self.step_count = 0
        self.meter: ActivationMeter | None = None
        if measure_activations and spec.compile_mode is None:
            self.meter = ActivationMeter({p.untyped_storage().data_ptr()
                                          for p in model.parameters()})
        if self.cuda:
            torch.cuda.reset_peak_memory_stats(self.device)

    # ------------------------------------------------------------ helpers
    @contextlib.contextmanager
    def _phase(self, name: str, times: dict[str, float]) -> Iterator[None]:
        if self.cuda:
            torch.cuda.nvtx.range_push(f"gpuopt/{name}")  # type: ignore[no-untyped-call]
        start = time.perf_counter()
        with torch.profiler.record_function(f"gpuopt/{name}"):
            yield
            if self.cuda:
                torch.cuda.synchronize(self.device)
        times[name] = times.get(name, 0.0) + time.perf_counter() - start
        if self.cuda:
            torch.cuda.nvtx.range_pop()  # type: ignore[no-untyped-call]

    def _next_batch(self) -> Batch:
        if self._iterator is None:
            self._iterator = iter(self.loader)
        try:
            return next(self._iterator)
        except StopIteration:
            self._iterator = iter(self.loader)
            return next(self._iterator)

    def _to_device(self, batch: Batch) -> Batch:
        moved = []
        for tensor in batch:
            tensor = tensor.to(self.device, non_blocking=self.spec.loader.pin_memory)
            if self.spec.channels_last and tensor.dim() == 4:
                tensor = tensor.contiguous(memory_format=torch.channels_last)
            moved.append(tensor)
        return tuple(moved)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.spec.amp is None:
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.spec.amp == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _hooks(self) -> contextlib.AbstractContextManager[Any]:
        if self.meter is None:
            return contextlib.nullcontext()
        self.meter.reset()
        return torch.autograd.graph.saved_tensors_hooks(self.meter.pack, self.meter.unpack)

    # ------------------------------------------------------------ the loop
    def step(self) -> StepRecord:
        """One optimizer step over one global batch (split into micro-batches if asked)."""
        times: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        start = time.perf_counter()
        with torch.profiler.record_function("gpuopt/step"):
            with self._phase("data", times):
                batch = self._next_batch()
            with self._phase("h2d", times):
                batch = self._to_device(batch)
            # BEGIN SOLUTION
            accumulation = self.spec.accumulation
            micro_batches = list(zip(*(t.chunk(accumulation) for t in batch), strict=True))
            if len(micro_batches) != accumulation:
                raise ValueError(f"batch {len(batch[0])} does not split into {accumulation} "
                                 "micro-batches")
            total = 0.0
            for micro in micro_batches:
                with self._phase("forward", times), self._hooks(), self._autocast():
                    loss = self.workload.loss_fn(self.forward_model, micro) / accumulation
                with self._phase("backward", times):
                    if self.scaler is not None:
                        self.scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
                    else:
                        loss.backward()  # type: ignore[no-untyped-call]
                total += float(loss.detach())
            with self._phase("optimizer", times):
                if self.scaler is not None:
                    self.scaler.step(self.optimizer)
                    self.scaler.update()
                else:
                    self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
            # END SOLUTION
        elapsed = time.perf_counter() - start
        self.step_count += 1
        if not math.isfinite(total):
            raise FloatingPointError(f"loss is {total} at step {self.step_count}")
        return StepRecord(self.step_count, elapsed, times, total, len(batch[0]))

    def run(self, steps: int) -> list[StepRecord]:
        return [self.step() for _ in range(steps)]

    @property
    def peak_activation_bytes(self) -> int | None:
        return self.meter.peak if self.meter is not None else None

    def peak_device_bytes(self) -> int | None:
        if self.cuda:
            return int(torch.cuda.max_memory_allocated(self.device))
        return None
