"""Test helpers: the CLI in-process, a user workload for `module:function`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from click.testing import CliRunner, Result
from torch import nn
from torch.utils.data import TensorDataset

from gpuopt.cli import cli
from gpuopt.workloads import Workload


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the gpuopt CLI in this process (torch is imported once per test session)."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def tiny_mlp(batch_size: int = 16) -> Workload:
    """A user workload: a 2-layer MLP on fixed random data (`tests.helpers:tiny_mlp`)."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(128, 20, generator=generator)
    y = torch.randint(0, 3, (128,), generator=generator)

    def loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return nn.functional.cross_entropy(model(batch[0]), batch[1])

    return Workload(name="tiny-mlp", build_model=lambda: nn.Sequential(
        nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 3)),
        build_dataset=lambda: TensorDataset(x, y), loss_fn=loss, batch_size=batch_size)


def not_a_workload(batch_size: int = 1) -> int:
    return batch_size
