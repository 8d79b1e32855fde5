"""Settings for modelmon: defaults < config file (YAML/TOML) < environment (prefix MODELMON_).

One file configures every process of the stack; each command reads its own section. Nested
fields take env vars with `__`, e.g. MODELMON_EXPORTER__WINDOW_SECONDS=120.
"""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelmon.rules import DEFAULT_RUNBOOK_BASE_URL


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceSettings(_Section):
    """The demo model service."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    model: str = "churn"
    version: str = "v1"
    prediction_log: Path = Path("data/predictions.jsonl")
    label_log: Path = Path("data/labels.jsonl")
    max_label_values: int = Field(default=20, ge=1, description="cardinality guard per label")


class ExporterSettings(_Section):
    """The ML exporter (its own process)."""

    host: str = "127.0.0.1"
    port: int = Field(default=9108, ge=1, le=65535)
    prediction_log: Path = Path("data/predictions.jsonl")
    label_log: Path = Path("data/labels.jsonl")
    references: list[Path] = Field(default_factory=lambda: [Path("data/reference.json")])
    window_seconds: float = Field(default=300.0, gt=0)
    max_window_size: int = Field(default=100_000, ge=10)
    min_samples: int = Field(default=50, ge=1, description="fewer predictions: no drift metrics")
    min_labels: int = Field(default=20, ge=1, description="fewer labels: no accuracy metrics")
    label_grace_seconds: float = Field(default=30.0, ge=0,
                                       description="wait this long for a label's prediction")
    interval_seconds: float = Field(default=2.0, gt=0, description="recompute period")
    psi_bins: int = Field(default=10, ge=2, le=100)
    state_dir: Path | None = Field(
        default=None, description="where the read offsets of the logs are kept across "
        "restarts (`<log name>.offset.json`); default: next to each log")


class ReceiverSettings(_Section):
    """The Alertmanager webhook receiver."""

    host: str = "127.0.0.1"
    port: int = Field(default=9109, ge=1, le=65535)
    data_dir: Path = Path("data/receiver")


class Thresholds(_Section):
    """Scorecard grades: green up to the first bound, amber up to the second, red beyond."""

    availability_green: float = Field(default=0.995, ge=0, le=1)
    availability_amber: float = Field(default=0.99, ge=0, le=1)
    latency_slo_seconds: float = Field(default=0.3, gt=0)
    latency_amber_factor: float = Field(default=2.0, ge=1)
    accuracy_drop_green: float = Field(default=0.02, ge=0)
    accuracy_drop_amber: float = Field(default=0.05, ge=0)
    psi_green: float = Field(default=0.1, ge=0)
    psi_amber: float = Field(default=0.2, ge=0)
    quality_green: float = Field(default=0.01, ge=0, le=1)
    quality_amber: float = Field(default=0.05, ge=0, le=1)


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="MODELMON_")

    prometheus_url: str = "http://127.0.0.1:9090"
    runbook_base_url: str = Field(default=DEFAULT_RUNBOOK_BASE_URL,
                                  description="URL of the published docs/runbooks.md; alerts "
                                              "link {runbook_base_url}#{alert name}")
    service: ServiceSettings = Field(default_factory=lambda: ServiceSettings())
    exporter: ExporterSettings = Field(default_factory=lambda: ExporterSettings())
    receiver: ReceiverSettings = Field(default_factory=lambda: ReceiverSettings())
    thresholds: Thresholds = Field(default_factory=lambda: Thresholds())

    @field_validator("prometheus_url", "runbook_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")
