"""Settings for regman: defaults < config file (--config / REGMAN_CONFIG) < env (REGMAN_*)."""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="REGMAN_")

    registry: str = Field(default="http://127.0.0.1:5000",
                          description="default registry URL for references without a host")
    username: str | None = Field(default=None, description="login of the default registry only")
    password: str | None = None
    docker_config: Path | None = Field(
        default=None, description="Docker config.json with per-registry logins (default "
        "$DOCKER_CONFIG/config.json, else ~/.docker/config.json)")
    plain_http: list[str] = Field(default_factory=list,
                                  description="hosts spoken to over HTTP (loopback always is)")
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0, description="retries on connection errors/5xx")
    backoff: float = Field(default=0.5, ge=0, description="first retry delay, doubles each time")
    chunk_size: int = Field(default=5 * 1024 * 1024, ge=1024,
                            description="blobs above this are uploaded in chunks of this size")
    copy_jobs: int = Field(default=4, ge=1, le=64,
                           description="blobs of one image copied at once (copy, replicate)")
    state_dir: Path = Field(default=Path(".regman"),
                            description="replication/retention run records (exporter reads)")
    storage_root: Path | None = Field(
        default=None, description="local distribution storage dir: push times + untagged")
    gc_config: Path | None = Field(default=None,
                                   description="registry config.yml: retention apply runs GC")
    registry_binary: str = "docker-registry"
    signing_policy: Path | None = Field(
        default=None, description="signing policy YAML: which signatures make an image "
        "'signed' for the exporter")
    notifications_token: str | None = Field(
        default=None, description="bearer token `notifications serve` requires")
    protected_repositories: list[str] = Field(default_factory=lambda: ["prod/*"])
    exporter_port: int = 9490
    exporter_cache_seconds: float = Field(default=15.0, ge=0)
