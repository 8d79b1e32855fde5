"""Settings for imgsec: defaults < config file (--config / IMGSEC_CONFIG) < env (IMGSEC_*)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="IMGSEC_")

    db_path: Path = Field(default=Path(".imgsec/vulns.db"),
                          description="the SQLite vulnerability database (imgsec db import)")
    cache_dir: Path = Field(default=Path(".imgsec/cache"),
                            description="scan-repo results by digest + DB version")
    stale_after_days: float = Field(default=7.0, gt=0,
                                    description="warn when the DB is older than this")
    fail_on: Literal["low", "medium", "high", "critical"] = "high"
    insecure_hosts: list[str] = Field(default_factory=list,
                                      description="registries spoken to over HTTP "
                                                  "(loopback always is)")
    authfile: Path | None = Field(default=None,
                                  description="Docker config.json with registry credentials")
    detect_secrets: bool = Field(default=True,
                                 description="run detect-secrets' plugins besides our rules")
