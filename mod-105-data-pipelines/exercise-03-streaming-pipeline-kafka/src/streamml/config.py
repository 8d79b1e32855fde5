"""Settings for streamml: defaults < config file (YAML/TOML) < environment (prefix STREAMML_).

One file configures every stage of the pipeline; nested sections take env vars with `__`,
e.g. STREAMML_KAFKA__BOOTSTRAP_SERVERS=broker:9092 or STREAMML_SPARK__MAX_RECORDS_PER_BATCH=300.
"""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KafkaSettings(_Section):
    """Broker, topics and the Schema Registry every stage talks to."""

    bootstrap_servers: str = "127.0.0.1:9092"
    schema_registry_url: str = "http://127.0.0.1:8081"
    broker_timeout_seconds: float = Field(default=10.0, gt=0,
                                          description="give up reaching the broker after this")
    partitions: int = Field(default=3, ge=1, le=64)
    events_topic: str = "events.raw"
    valid_topic: str = "events.valid"
    dlq_topic: str = "events.dlq"
    features_topic: str = "features.user"
    markers_topic: str = "streamml.sink-markers"
    predictions_topic: str = "predictions"


class QualitySettings(_Section):
    """The data-quality consumer group."""

    group_id: str = "streamml-validate"
    instance_id: str = Field(default="validate-0",
                             description="group.instance.id and transactional.id suffix")
    max_amount: float = Field(default=10_000.0, gt=0)
    max_future_skew_seconds: float = Field(default=300.0, ge=0,
                                           description="event_time later than now + this: bad")
    dedup_capacity: int = Field(default=100_000, ge=1, description="event ids remembered")
    transaction_records: int = Field(default=500, ge=1)


class SparkSettings(_Section):
    """The windowed-feature job."""

    checkpoint_dir: Path = Path(".run/spark-checkpoint")
    window_seconds: int = Field(default=60, ge=1)
    slide_seconds: int | None = Field(default=None, ge=1,
                                      description="None: tumbling windows; else sliding")
    watermark_seconds: int = Field(default=30, ge=0)
    max_records_per_batch: int = Field(default=1000, ge=1)
    shuffle_partitions: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _slide_fits(self) -> SparkSettings:
        if self.slide_seconds is not None and self.slide_seconds > self.window_seconds:
            raise ValueError("slide_seconds must not exceed window_seconds")
        return self


class SinkSettings(_Section):
    """Training (Parquet on S3), serving (PostgreSQL) and topic sinks."""

    s3_endpoint_url: str = "http://127.0.0.1:5000"
    s3_bucket: str = "streamml-features"
    s3_prefix: str = "features"
    aws_region: str = "us-east-1"
    postgres_dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    features_table: str = Field(default="user_features", pattern=r"^[a-z_][a-z0-9_]{0,62}$")


class ScoringSettings(_Section):
    """Online scoring."""

    group_id: str = "streamml-score"
    instance_id: str = Field(default="score-0",
                             description="group.instance.id and transactional.id suffix")
    transaction_records: int = Field(default=500, ge=1)
    model_path: Path = Path(".run/model/model.joblib")


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="STREAMML_")

    kafka: KafkaSettings = Field(default_factory=lambda: KafkaSettings())
    quality: QualitySettings = Field(default_factory=lambda: QualitySettings())
    spark: SparkSettings = Field(default_factory=lambda: SparkSettings())
    sinks: SinkSettings = Field(default_factory=lambda: SinkSettings())
    scoring: ScoringSettings = Field(default_factory=lambda: ScoringSettings())
