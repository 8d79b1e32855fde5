"""The default model and data: small enough for 2 CPU ranks, shaped like the real thing.

`Net` is a residual MLP made of `Block`s: FSDP2 shards each block and then the root, as a
transformer's layers would be. No dropout and no batch norm, so a distributed run must land on
the single-process weights for the same global batch. The data set is a seeded synthetic
regression problem, built identically on every rank from `seed` (no files to distribute).
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn
from torch.utils.data import TensorDataset


class Block(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.fc2(torch.tanh(self.fc1(x)))
        return out


class Net(nn.Module):
    def __init__(self, in_features: int, hidden: int, blocks: int) -> None:
        super().__init__()
        self.inp = nn.Linear(in_features, hidden)
        self.blocks = nn.ModuleList(Block(hidden) for _ in range(blocks))
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.inp(x))
        for block in self.blocks:
            h = block(h)
        out: torch.Tensor = self.head(h)  # [batch, 1]: no view for FSDP2 to hook
        return out


def build_model(in_features: int, hidden: int, blocks: int, seed: int) -> Net:
    """The same initial weights on every rank and in every strategy (seeded, on CPU)."""
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    model = Net(in_features, hidden, blocks)
    torch.random.set_rng_state(gen_state)
    return model


def build_dataset(samples: int, in_features: int, seed: int) -> TensorDataset:
    """y = sin(x . w) + 0.1 cos(2 x_0) + noise, from a private generator seeded by `seed`."""
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(samples, in_features, generator=gen)
    w = torch.randn(in_features, generator=gen) / in_features**0.5
    y = torch.sin(x @ w) + 0.1 * torch.cos(2 * x[:, 0]) + 0.01 * torch.randn(samples, generator=gen)
    return TensorDataset(x, y)


def fingerprint(model: nn.Module) -> str:
    """Names and shapes of the parameters: a checkpoint of another model has another one."""
    names = [f"{n}:{tuple(p.shape)}" for n, p in _unwrapped(model).named_parameters()]
    return hashlib.sha256("|".join(names).encode()).hexdigest()[:16]


def fingerprint_shapes(shapes: dict[str, tuple[int, ...]]) -> str:
    names = [f"{n}:{s}" for n, s in shapes.items()]
    return hashlib.sha256("|".join(names).encode()).hexdigest()[:16]


def _unwrapped(model: nn.Module) -> nn.Module:
    inner = getattr(model, "module", None)
    return inner if isinstance(inner, nn.Module) else model
