"""Settings for tfml: defaults < config file (`--config` or TFML_CONFIG) < environment (TFML_*)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field

Severity = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="TFML_")

    modules_dir: Path = Field(Path("terraform/modules"), description="the module library")
    policies_dir: Path = Field(Path("policies"), description="YAML policies + suppressions")
    work_dir: Path = Field(Path(".tfml"), description="plugin cache, TLS files, scratch")
    dist_dir: Path = Field(Path("dist"), description="release archives the registry serves")
    namespace: str = Field("tfml", pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    registry_host: str = Field("registry.tfml.test", description="dotted registry host name")
    terraform_timeout: float = Field(600.0, gt=0, description="seconds per terraform command")
    parallelism: int = Field(2, ge=1, le=16, description="terraform processes at once")
    severity_threshold: Severity = "MEDIUM"
    checkov_severity: Severity = Field("MEDIUM", description="severity of checkov findings "
                                       "(offline checkov has no severities of its own)")
    region: str = "us-east-1"
