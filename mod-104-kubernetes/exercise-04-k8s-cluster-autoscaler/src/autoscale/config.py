"""Settings for autoscale: defaults < config file (--config / AUTOSCALE_CONFIG) < environment
(prefix AUTOSCALE_, nested with __). Command-line options win over all of them."""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, Field


class ControllerSettings(BaseModel):
    interval_seconds: float = Field(default=15.0, gt=0, description="sync period")
    min_change_interval_seconds: float = Field(default=60.0, ge=0, description="rate limit")
    apply: bool = Field(default=False, description="write to the API (default: dry-run)")


class ForecasterSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=9090, ge=0, le=65535)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    lead_seconds: float = Field(default=240.0, ge=0)
    history_days: float = Field(default=3.0, gt=0)


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="AUTOSCALE_")

    prometheus_url: str = "http://127.0.0.1:9090"
    policy_file: Path = Path("examples/policy.yaml")
    cluster_file: Path = Path("examples/cluster.yaml")
    kubeconfig: Path | None = None
    warmup_hours: float = Field(default=48.0, ge=0, description="simulated time not scored")
    controller: ControllerSettings = ControllerSettings()
    forecaster: ForecasterSettings = ForecasterSettings()
