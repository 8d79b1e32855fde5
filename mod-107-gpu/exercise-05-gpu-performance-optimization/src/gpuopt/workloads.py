"""Training workloads: what `profile`, `analyze`, `tune` and `batch-size` run.

A `Workload` is a recipe for a model, a dataset and a loss; the trainer owns the loop. Three
ship with gpuopt:

* `cnn`: a small ResNet-style CNN (GroupNorm, not BatchNorm: batch statistics per micro-batch
  would make gradient accumulation differ from one large batch) on synthetic 32x32 images.
* `llama`: the tiny random Llama from `aiinfra_shared.models` on random token sequences.
* `databound`: the same CNN behind a Dataset that works per item (an emulated object-store
  read with a fixed latency, then real uint8 decode + crop + flip + normalise in numpy).

User workloads: `--workload my.module:function`, where `function(batch_size)` returns a
`Workload`.
"""

from __future__ import annotations

import importlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint
from torch.utils.data import Dataset

from gpuopt.errors import UnknownNameError

Batch = tuple[torch.Tensor, ...]


@dataclass
class Workload:
    """Model + data + loss of one training job."""

    name: str
    build_model: Callable[[], nn.Module]
    build_dataset: Callable[[], Dataset[Batch]]
    loss_fn: Callable[[nn.Module, Batch], torch.Tensor]
    batch_size: int
    description: str = ""
    # Enables activation checkpointing on a built model; None: the recipe does not apply.
    enable_checkpointing: Callable[[nn.Module], None] | None = None
    has_conv: bool = False
    lr: float = 0.05
    optimizer: str = "sgd"  # "sgd" or "adamw"
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- CNN
class Checkpointed(nn.Module):
    """Runs `inner` under torch.utils.checkpoint (non-reentrant) while training."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            out = checkpoint(self.inner, x, use_reentrant=False)
            assert isinstance(out, torch.Tensor)
            return out
        result: torch.Tensor = self.inner(x)
        return result


class BasicBlock(nn.Module):
    """Two 3x3 convs + GroupNorm with an identity (or 1x1 projection) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.n1 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.n2 = nn.GroupNorm(8, cout)
        self.short: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.GroupNorm(8, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.n1(self.conv1(x)))
        out = self.n2(self.conv2(out))
        return torch.relu(out + self.short(x))


class SmallResNet(nn.Module):
    """A ResNet-style CNN for 32x32 images: stem, `len(widths)` stages, pooled linear head."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64), classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False),
                                  nn.GroupNorm(8, widths[0]), nn.ReLU())
        blocks: list[nn.Module] = []
        cin = widths[0]
        for index, width in enumerate(widths):
            blocks.append(BasicBlock(cin, width, 1 if index == 0 else 2))
            cin = width
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        logits: torch.Tensor = self.head(
            torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))
        return logits


def checkpoint_cnn(model: nn.Module) -> None:
    """Wrap each residual block of a SmallResNet in `Checkpointed`."""
    assert isinstance(model, SmallResNet)
    model.blocks = nn.ModuleList(
        [b if isinstance(b, Checkpointed) else Checkpointed(b) for b in model.blocks])


class ImageDataset(Dataset[Batch]):
    """`size` fixed random images (seeded) with labels: a compute-bound dataset."""

    def __init__(self, size: int = 512, seed: int = 0, resolution: int = 32) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.images = torch.randn(size, 3, resolution, resolution, generator=generator)
        self.labels = torch.randint(0, 10, (size,), generator=generator)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Batch:
        return self.images[index], self.labels[index]


class SlowImageDataset(Dataset[Batch]):
    """Per-item work: an emulated remote read (`latency_s` sleep) + real decode/augment.

    The augmentation is seeded by the index, so every DataLoader configuration (workers or
    not) yields the same samples in the same order: losses stay comparable across recipes.
    """

    def __init__(self, size: int = 512, seed: int = 0, latency_s: float = 0.004,
                 resolution: int = 32) -> None:
        self.size, self.seed, self.latency_s, self.resolution = size, seed, latency_s, resolution
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 10, size=size)
        self.mean = np.array([0.5, 0.5, 0.5], dtype=np.float32).reshape(3, 1, 1)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> Batch:
        time.sleep(self.latency_s)  # emulated object-store read
        rng = np.random.default_rng((self.seed, index))
        raw = rng.integers(0, 256, size=(3, self.resolution + 8, self.resolution + 8),
                           dtype=np.uint8)  # "decoded" pixels, a padded crop source
        top, left = rng.integers(0, 9, size=2)
        crop = raw[:, top:top + self.resolution, left:left + self.resolution]
        if rng.random() < 0.5:
            crop = crop[:, :, ::-1]
        image = (crop.astype(np.float32) / 255.0 - self.mean) / 0.25
        return torch.from_numpy(np.ascontiguousarray(image)), torch.tensor(
            int(self.labels[index]))


def _classification_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    images, labels = batch
    return nn.functional.cross_entropy(model(images).float(), labels)


def cnn(batch_size: int = 32) -> Workload:
    return Workload(
        name="cnn", build_model=lambda: SmallResNet(), build_dataset=lambda: ImageDataset(),
        loss_fn=_classification_loss, batch_size=batch_size,
        description="ResNet-style CNN (3 stages, GroupNorm) on 32x32 images, compute-bound",
        enable_checkpointing=checkpoint_cnn, has_conv=True)


def databound(batch_size: int = 32, latency_s: float = 0.004) -> Workload:
    return Workload(
        name="databound", build_model=lambda: SmallResNet(widths=(8, 16, 16)),
        build_dataset=lambda: SlowImageDataset(latency_s=latency_s),
        loss_fn=_classification_loss, batch_size=batch_size,
        description="small CNN behind a per-item Dataset (emulated read + numpy augment)",
        enable_checkpointing=checkpoint_cnn, has_conv=True)


# ---------------------------------------------------------------- tiny Llama
LLAMA_WORDS = tuple(f"w{i}" for i in range(250))


@lru_cache(maxsize=4)
def _tiny_llama_dir(hidden: int, layers: int) -> Path:
    from aiinfra_shared.models import build_tiny_llama

    folder = Path(tempfile.mkdtemp(prefix="gpuopt-llama-"))
    return build_tiny_llama(folder, LLAMA_WORDS, hidden_size=hidden, num_layers=layers,
                            num_heads=4, num_kv_heads=2, seed=0)


class TokenDataset(Dataset[Batch]):
    """Random token sequences (seeded) over the tiny Llama's vocabulary."""

    def __init__(self, vocab: int, size: int = 256, seq_len: int = 128, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.tokens = torch.randint(6, vocab, (size, seq_len), generator=generator)

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, index: int) -> Batch:
        return (self.tokens[index],)


def _llama_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    (tokens,) = batch
    loss: torch.Tensor = model(input_ids=tokens, labels=tokens).loss
    return loss


def _llama_checkpointing(model: nn.Module) -> None:
    model.gradient_checkpointing_enable(  # type: ignore[operator]
        gradient_checkpointing_kwargs={"use_reentrant": False})


def llama(batch_size: int = 8, hidden: int = 128, layers: int = 2, seq_len: int = 128
          ) -> Workload:
    def build() -> nn.Module:
        from transformers import LlamaForCausalLM

        model = LlamaForCausalLM.from_pretrained(_tiny_llama_dir(hidden, layers),
                                                 attn_implementation="sdpa")
        model.config.use_cache = False
        return model

    vocab = 6 + len(LLAMA_WORDS)
    return Workload(
        name="llama", build_model=build,
        build_dataset=lambda: TokenDataset(vocab, seq_len=seq_len), loss_fn=_llama_loss,
        batch_size=batch_size, lr=1e-3, optimizer="adamw",
        description=f"tiny random Llama ({layers} layers, hidden {hidden}) on {seq_len}-token "
                    "sequences (aiinfra_shared.models)",
        enable_checkpointing=_llama_checkpointing)


BUILTIN: dict[str, Callable[..., Workload]] = {"cnn": cnn, "llama": llama,
                                                "databound": databound}


def load_workload(spec: str, batch_size: int | None = None) -> Workload:
    """A built-in name or `module:function`; `batch_size` overrides the workload's default."""
    if spec in BUILTIN:
        factory = BUILTIN[spec]
    elif ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UnknownNameError(f"workload {spec!r}: cannot import {module_name!r} "
                                   f"({exc})") from exc
        found = getattr(module, attr, None)
        if not callable(found):
            raise UnknownNameError(f"workload {spec!r}: {module_name} has no function {attr!r}")
        factory = found
    else:
        raise UnknownNameError(f"unknown workload {spec!r}; choose one of "
                               f"{', '.join(BUILTIN)} or give module:function")
    workload = factory(batch_size) if batch_size is not None else factory()
    if not isinstance(workload, Workload):
        raise UnknownNameError(f"workload {spec!r} did not return a gpuopt Workload")
    return workload
