"""Settings for obsstack: defaults < config file (`--config`, `OBSSTACK_CONFIG`) <
environment (prefix `OBSSTACK_`, nested with `__`, e.g. `OBSSTACK_SHIPPER__BATCH_SIZE=1`)."""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, ConfigDict, Field


class ShipperSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=500, ge=1, le=10_000)
    flush_interval_s: float = Field(default=1.0, gt=0)
    # Lines parked on disk while Elasticsearch is down; beyond it the shipper stops reading
    # (backpressure) instead of dropping anything.
    buffer_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    max_retries: int = Field(default=5, ge=0)
    retry_backoff_s: float = Field(default=0.2, ge=0)
    state_dir: Path = Path("data/shipper")


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="OBSSTACK_")

    host: str = "127.0.0.1"
    # Where the gateway finds the features service and the features service the model.
    features_url: str = "http://127.0.0.1:8101"
    model_url: str = "http://127.0.0.1:8102"
    model_version: str = "v1"
    log_dir: Path = Path("data/logs")
    # OTLP/HTTP base URL (the SDK appends /v1/traces); empty: no trace export.
    otlp_endpoint: str = ""
    otlp_timeout_s: float = Field(default=2.0, gt=0)
    sample_ratio: float = Field(default=1.0, ge=0, le=1)
    metrics: bool = True
    traces: bool = True
    logs: bool = True  # JSON request log lines (off only for the overhead benchmark)
    elasticsearch_url: str = "http://127.0.0.1:9200"
    index_prefix: str = "obsstack-logs"
    prometheus_url: str = "http://127.0.0.1:9090"
    shipper: ShipperSettings = ShipperSettings()
