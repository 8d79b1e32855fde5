"""Settings for meshobs: defaults < config file (--config / MESHOBS_CONFIG) < environment
(prefix MESHOBS_, nested with __)."""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, ConfigDict, Field


class TailSampling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slow_ms: float = Field(default=500.0, gt=0)
    keep_percent: float = Field(default=10.0, ge=0, le=100)
    decision_wait_s: float = Field(default=2.0, ge=0)


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="MESHOBS_")

    mesh_file: Path | None = Field(default=None,
                                   description="mesh.yaml; unset: the built-in demo mesh")
    prometheus_url: str = "http://127.0.0.1:9090"
    haproxy_admin: str = Field(default="127.0.0.1:9999",
                               description="HAProxy runtime API (stats socket), host:port")
    status_dir: Path = Path(".meshobs/rollouts")
    collector_url: str = "http://127.0.0.1:4318"
    traces_db: Path = Path(".meshobs/traces.sqlite")
    certs_dir: Path = Path(".meshobs/certs")
    stack_dir: Path = Path(".meshobs/stack")
    tail_sampling: TailSampling = Field(default_factory=TailSampling)
