"""Settings for mlscaffold: defaults < config file < environment (prefix MLSCAFFOLD_)."""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="MLSCAFFOLD_")

    templates_dir: Path | None = Field(
        default=None, description="Use templates from this folder instead of the built-in ones")
    default_template: str = Field(default="sklearn", description="Template of `new` without -t")
    output_dir: Path = Field(default=Path(), description="Where `new` creates projects")
    uv_timeout_s: float = Field(default=600.0, gt=0,
                                description="Limit for `docs` running the project's env "
                                            "and for `uv lock` in `new`")
    lock: bool = Field(default=True, description="`new` runs `uv lock` in the new project "
                                                 "(false: offline, like --no-lock)")
