"""Settings for gpuopt: defaults < config file (--config) < environment (prefix GPUOPT_).

    GPUOPT_WORKLOAD=cnn GPUOPT_THREADS=2 gpuopt tune
"""

from __future__ import annotations

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="GPUOPT_")

    workload: str = "databound"
    device: str = "auto"  # auto: cuda when available, else cpu
    # Intra-op threads on CPU. 1 by default: on a small shared machine torch's OpenMP threads
    # spin against each other (2 threads ran this CNN 2-10x slower than 1 on a busy 2-core
    # box) and DataLoader workers need a core of their own.
    threads: int = Field(default=1, ge=1, le=256)
    seed: int = 0
    out: str = "reports"
    rounds: int = Field(default=3, ge=1, le=50)
    steps: int = Field(default=5, ge=1, le=10_000)
    warmup: int = Field(default=2, ge=1, le=100)
    loss_steps: int = Field(default=6, ge=2, le=10_000)
    loss_tolerance: float = Field(default=0.05, gt=0, le=1)


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
