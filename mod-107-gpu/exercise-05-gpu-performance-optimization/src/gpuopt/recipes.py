"""Optimisation recipes: each one changes a `TrainSpec`; they compose by applying in turn.

A recipe is data (name, what it needs) plus a pure `apply(spec) -> spec`. The trainer reads
the spec; nothing here touches a model. `check_runnable` rejects what this device cannot do
(fp16 with GradScaler or CUDA graphs on CPU, torch.compile without a C compiler) before any
work starts, so a bad request never leaves a half-written report.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from gpuopt.errors import UnknownNameError, UnsupportedError
from gpuopt.workloads import Workload


@dataclass(frozen=True)
class LoaderSpec:
    """DataLoader settings (PyTorch tuning guide: workers, pinned memory, prefetching)."""

    workers: int = 0
    pin_memory: bool = False
    persistent_workers: bool = False
    prefetch_factor: int | None = None


@dataclass(frozen=True)
class TrainSpec:
    """Everything the trainer varies. The default is the plain fp32 eager baseline."""

    amp: str | None = None  # None, "bf16", "fp16" (fp16 uses a GradScaler, CUDA only)
    accumulation: int = 1  # micro-batches per optimizer step (batch / accumulation each)
    checkpointing: bool = False
    channels_last: bool = False
    compile_mode: str | None = None  # None, "default", "reduce-overhead" (CUDA graphs)
    loader: LoaderSpec = LoaderSpec()
    optimizer_impl: str = "default"  # "default" (for-loop), "foreach", "fused"
    tf32: bool = False

    def describe(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    apply: Callable[[TrainSpec], TrainSpec]
    needs_cuda: bool = False
    needs_compiler: bool = False
    needs_checkpointing: bool = False
    needs_conv: bool = False


def with_loader(spec: TrainSpec, workers: int) -> TrainSpec:
    """`spec` with a tuned DataLoader: workers, pinned memory on GPU, persistent, prefetch."""
    # BEGIN SOLUTION
    cuda = torch.cuda.is_available()
    loader = LoaderSpec(workers=workers, pin_memory=cuda, persistent_workers=workers > 0,
                        prefetch_factor=4 if workers > 0 else None)
    return dataclasses.replace(spec, loader=loader)
    # END SOLUTION


RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("amp-bf16", "bf16 autocast for forward + loss (CPU and GPU; no scaler needed)",
           lambda s: dataclasses.replace(s, amp="bf16")),
    Recipe("amp-fp16", "fp16 autocast with torch.amp.GradScaler (GPU only)",
           lambda s: dataclasses.replace(s, amp="fp16"), needs_cuda=True),
    Recipe("grad-accum", "4 micro-batches per optimizer step (same global batch, less memory)",
           lambda s: dataclasses.replace(s, accumulation=4)),
    Recipe("checkpoint", "activation checkpointing (torch.utils.checkpoint, use_reentrant=False)",
           lambda s: dataclasses.replace(s, checkpointing=True), needs_checkpointing=True),
    Recipe("channels-last", "model and image batches in channels_last memory format",
           lambda s: dataclasses.replace(s, channels_last=True), needs_conv=True),
    Recipe("compile", "torch.compile (inductor, default mode)",
           lambda s: dataclasses.replace(s, compile_mode="default"), needs_compiler=True),
    Recipe("compile-cudagraphs", "torch.compile mode='reduce-overhead' (CUDA graphs)",
           lambda s: dataclasses.replace(s, compile_mode="reduce-overhead"),
           needs_compiler=True, needs_cuda=True),
    Recipe("dataloader", "DataLoader: 4 workers, pin_memory on GPU, persistent, prefetch 4",
           lambda s: with_loader(s, 4)),
    Recipe("fused-optim", "fused optimizer kernels (fused=True; foreach where fused is absent)",
           lambda s: dataclasses.replace(s, optimizer_impl="fused")),
    Recipe("foreach-optim", "foreach (multi-tensor) optimizer implementation",
           lambda s: dataclasses.replace(s, optimizer_impl="foreach")),
    Recipe("tf32", "TF32 matmul and cuDNN convolutions (Ampere and newer GPUs)",
           lambda s: dataclasses.replace(s, tf32=True), needs_cuda=True),
]}


def dataloader_recipe(workers: int) -> Recipe:
    """The DataLoader recipe with a given worker count (the recommender sizes it)."""
    return Recipe(f"dataloader:{workers}", f"DataLoader with {workers} workers",
                  lambda s: with_loader(s, workers))


def get_recipe(name: str) -> Recipe:
    if name.startswith("dataloader:"):
        count = name.partition(":")[2]
        if not count.isdigit() or not 0 < int(count) <= 64:
            raise UnknownNameError(f"recipe {name!r}: workers must be 1..64")
        return dataloader_recipe(int(count))
    if name not in RECIPES:
        raise UnknownNameError(f"unknown recipe {name!r}; choose from {', '.join(RECIPES)}")
    return RECIPES[name]


def compiler_available() -> bool:
    """Inductor on CPU needs a C++ compiler; on GPU it also needs Triton."""
    return any(shutil.which(cc) for cc in ("g++", "c++", "clang++"))


def check_runnable(recipe: Recipe, workload: Workload, device: str) -> None:
    """Raise UnsupportedError when `recipe` cannot run for `workload` on `device`."""
    # BEGIN SOLUTION
    if recipe.needs_cuda and not device.startswith("cuda"):
        raise UnsupportedError(f"recipe {recipe.name} needs a CUDA device (running on {device})")
    if recipe.needs_compiler and not compiler_available():
        raise UnsupportedError(f"recipe {recipe.name}: torch.compile needs a C++ compiler "
                               "(g++ or clang++) on PATH")
    if recipe.needs_checkpointing and workload.enable_checkpointing is None:
        raise UnsupportedError(f"recipe {recipe.name}: workload {workload.name} has no "
                               "checkpointing hook")
    if recipe.needs_conv and not workload.has_conv:
        raise UnsupportedError(f"recipe {recipe.name}: workload {workload.name} has no "
                               "convolutions")
    # END SOLUTION


def compose(names: Sequence[str], workload: Workload, device: str) -> tuple[TrainSpec, list[str]]:
    """Apply the named recipes in order to the baseline spec (after checking each)."""
    spec = TrainSpec()
    applied = []
    for name in names:
        recipe = get_recipe(name)
        check_runnable(recipe, workload, device)
        spec = recipe.apply(spec)
        applied.append(recipe.name)
    return spec, applied


def applicable(workload: Workload, device: str) -> list[str]:
    """The recipes that can run for this workload here, in catalogue order."""
    names = []
    for name, recipe in RECIPES.items():
        try:
            check_runnable(recipe, workload, device)
        except UnsupportedError:
            continue
        names.append(name)
    return names
