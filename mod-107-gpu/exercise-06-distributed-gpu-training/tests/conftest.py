"""Fixtures: one 2-process torchrun run (per test session) that several tests read.

The run covers DDP (with gradient accumulation), FSDP2 with a DCP checkpoint, FSDP2 with
bf16 parameters, the DDP comm hooks and a planted straggler, all on one process group.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from aiinfra_shared.procs.ports import free_port

from disttrain.config import Delay, TrainConfig
from disttrain.launch import LaunchResult, LaunchSpec, launch

STEPS = 12
BASE = TrainConfig(steps=STEPS, global_batch=64, accumulation_steps=2, checkpoint_every=6)


@dataclass
class Suite:
    out: Path
    result: LaunchResult
    configs: dict[str, TrainConfig]

    def report(self, name: str) -> dict[str, Any]:
        assert name in self.result.reports, (self.result.returncode, self.result.stderr_tail)
        return self.result.reports[name]

    def weights(self, name: str) -> dict[str, torch.Tensor]:
        loaded: dict[str, torch.Tensor] = torch.load(self.out / f"{name}.weights.pt")
        return loaded


def suite_configs(out: Path) -> list[TrainConfig]:
    return [
        BASE.overrides(name="ddp", strategy="ddp", checkpoint_dir=str(out / "ck-ddp")),
        BASE.overrides(name="fsdp", strategy="fsdp", fsdp_bf16=False,
                       checkpoint_dir=str(out / "ck-fsdp")),
        BASE.overrides(name="fsdp-bf16", strategy="fsdp", fsdp_bf16=True),
        BASE.overrides(name="ddp-bf16", strategy="ddp", comm_hook="bf16", bucket_cap_mb=0.01),
        BASE.overrides(name="ddp-powersgd", strategy="ddp", comm_hook="powersgd"),
        BASE.overrides(name="straggler", strategy="ddp", steps=10, accumulation_steps=1,
                       straggler=True, straggler_window=5, straggler_threshold_ms=25,
                       straggler_action="metric", checkpoint_dir=str(out / "st" / "ck"),
                       checkpoint_every=0, inject_delay=Delay(rank=1, ms=60)),
    ]


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Suite:
    out = tmp_path_factory.mktemp("suite")
    configs = suite_configs(out)
    result = launch(LaunchSpec(nproc=2, port=free_port(), out=out, max_restarts=0), configs,
                    timeout=300)
    assert result.returncode == 0, result.stderr_tail
    return Suite(out, result, {c.name: c for c in configs})
