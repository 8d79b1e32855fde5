"""Settings for mltrack: defaults < config file < environment (prefix MLTRACK_).

The quality gates live here because a gate config that does not validate must stop a
promotion before anything is evaluated (exit code 3), never half-way through it.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Literal

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MetricName = Literal["accuracy", "f1", "precision", "recall"]
METRIC_NAMES: tuple[str, ...] = ("accuracy", "f1", "precision", "recall")


class GateConfig(BaseModel):
    """Quality gates a candidate must pass before the `champion` alias moves to it."""

    model_config = ConfigDict(extra="forbid")

    # The metric the paired-bootstrap regression gate (`ci_<metric>`) judges.
    primary_metric: MetricName = "f1"
    # Absolute floors on the held-out set, e.g. {"f1": 0.9}.
    min_metrics: dict[MetricName, float] = Field(
        default_factory=lambda: {"accuracy": 0.85, "f1": 0.85}  # type: ignore[arg-type]
    )
    # Largest allowed drop versus the current champion (absolute), e.g. {"f1": 0.02}.
    max_regression: dict[MetricName, float] = Field(
        default_factory=lambda: {"accuracy": 0.02, "f1": 0.02}  # type: ignore[arg-type]
    )
    # p95 of single-row predict latency must stay under this budget.
    latency_budget_ms: float = Field(default=100.0, gt=0)
    latency_samples: int = Field(default=30, ge=1, le=10_000)
    require_signature_match: bool = True
    # Paired bootstrap of (candidate - champion) on primary_metric over the held-out rows:
    # the CI's lower bound must not fall below -max_regression[primary_metric] (0 if unset).
    bootstrap_samples: int = Field(default=1000, ge=100, le=100_000)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    bootstrap_seed: int = 0

    @field_validator("min_metrics")
    @classmethod
    def _floors_are_fractions(cls, value: dict[str, float]) -> dict[str, float]:
        for name, threshold in value.items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"min_metrics.{name} must be between 0 and 1, got {threshold}")
        return value

    @field_validator("max_regression")
    @classmethod
    def _regressions_are_fractions(cls, value: dict[str, float]) -> dict[str, float]:
        for name, allowed in value.items():
            if not 0.0 <= allowed <= 1.0:
                raise ValueError(f"max_regression.{name} must be between 0 and 1, got {allowed}")
        return value


class ServerSettings(BaseModel):
    """The local production-shaped stack that `mltrack server up` starts."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=5055, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    bucket: str = "mlflow"
    artifacts_prefix: str = "artifacts"
    database: str = "mlflow"
    startup_timeout_s: float = Field(default=240.0, gt=0)


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="MLTRACK_")

    tracking_uri: str = "http://127.0.0.1:5055"
    experiment: str = "breast-cancer"
    model_name: str = "cancer-classifier"
    state_dir: Path = Path(".mltrack")
    audit_log: Path | None = None
    actor: str | None = None
    # Client resilience: attempts and exponential backoff for transient errors.
    retries: int = Field(default=3, ge=0, le=10)
    backoff_s: float = Field(default=0.5, ge=0)
    request_timeout_s: int = Field(default=30, ge=1)
    # Promotion lock: how long to wait for another promotion of the same model, and after
    # how long a lock whose holder never released it counts as abandoned.
    lock_wait_s: float = Field(default=300.0, ge=0)
    lock_lease_s: float = Field(default=900.0, gt=0)
    gates: GateConfig = Field(default_factory=GateConfig)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @model_validator(mode="after")
    def _strip_uri(self) -> Settings:
        self.tracking_uri = self.tracking_uri.rstrip("/")
        return self

    @property
    def audit_log_path(self) -> Path:
        return self.audit_log if self.audit_log is not None else self.state_dir / "audit.jsonl"

    @property
    def who(self) -> str:
        return self.actor or getpass.getuser()

    @property
    def promotions_experiment(self) -> str:
        return f"{self.experiment}-promotions"
