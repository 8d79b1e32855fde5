"""Shared test helpers: the CLI as a subprocess, the single-process reference."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from disttrain.config import TrainConfig
from disttrain.runtime import init_distributed
from disttrain.train import RunResult, train

EXE = str(Path(sys.executable).parent / "disttrain")


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 240,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([EXE, *args], capture_output=True, text=True, check=False,
                          env=full_env, timeout=timeout, cwd=cwd)


def single(cfg: TrainConfig) -> RunResult:
    """The single-process run of the same global batch (no accumulation needed)."""
    return train(cfg.overrides(strategy="single", accumulation_steps=1, checkpoint_dir=None,
                               kill_at_step=None, inject_delay=None, straggler=False),
                 init_distributed("cpu"))


def max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    return lines[0]
