"""Settings for mlbench: defaults < config file (--config) < environment (prefix MLBENCH_)."""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field


class Settings(ExerciseSettings):
    """Where results go and how `compare` decides; the suite itself lives in a YAML file."""

    model_config = settings_config(env_prefix="MLBENCH_")
    output_dir: Path = Path("reports")
    suite: Path | None = None  # default suite file for `mlbench run`
    worker_timeout_s: float = Field(3600.0, gt=0)
    alpha: float = Field(0.01, gt=0, lt=1)  # significance level of compare's Welch test
    min_effect: float = Field(0.05, ge=0)  # smallest relative slowdown that counts
