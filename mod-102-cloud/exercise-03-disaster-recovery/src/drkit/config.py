"""Settings for drkit: defaults < config file (drkit.yaml) < environment (prefix DRKIT_).

Everything has a default that works on one machine with the demo stack (`drkit demo`), so
`make run` needs no configuration; production points the same keys at real endpoints.
"""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, Field

from drkit.retention import RetentionPolicy


class Region(BaseModel):
    """One region's object store: endpoint (empty = AWS itself) and buckets.
    Set from the environment as DRKIT_PRIMARY__ENDPOINT_URL, DRKIT_DR__BACKUP_BUCKET..."""

    model_config = {"extra": "forbid"}
    name: str = "us-east-1"
    endpoint_url: str = ""
    backup_bucket: str = "drkit-backups"
    artifact_bucket: str = "ml-artifacts"
    config_bucket: str = "ml-config"


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="DRKIT_")

    primary_dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    standby_dsn: str = ""
    primary: Region = Field(default_factory=Region)
    dr: Region = Field(default_factory=lambda: Region(
        name="us-west-2", backup_bucket="drkit-backups-dr", artifact_bucket="ml-artifacts-dr",
        config_bucket="ml-config-dr"))
    recipients: list[str] = Field(default_factory=list)  # age public keys
    identity_file: Path | None = None  # age identity for restores
    spool_dir: Path | None = None  # archive_command copies WAL here; the uploader drains it
    work_dir: Path = Path(".drkit")
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy)
    replication_mode: str = Field(default="sync", pattern="^(sync|async)$")
    pointer_file: Path = Path(".drkit/service.json")
    hosted_zone: str = "drkit.internal"
    record_name: str = "primary.db.drkit.internal"
    pushgateway_url: str = ""
    artifact_table: str = "model_versions"  # rows (artifact_key, sha256) checked on restore
    command_timeout_s: float = Field(default=300.0, gt=0)
