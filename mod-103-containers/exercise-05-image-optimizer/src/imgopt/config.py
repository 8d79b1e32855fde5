"""Settings for imgopt: defaults < config file < environment (prefix IMGOPT_)."""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field


class Settings(ExerciseSettings):
    """Where builds and unpacked rootfs go, and how long external steps may take."""

    model_config = settings_config(env_prefix="IMGOPT_")

    work_dir: Path = Path(".imgopt")  # buildah storage, unpacked rootfs, traces (disposable)
    probe_timeout: float = 30.0  # seconds per smoke command / minify probe (hard kill)
    hadolint: bool = True  # run hadolint next to imgopt's own rules
    # hosts fetched over plain HTTP (loopback always is)
    insecure_registries: list[str] = Field(default_factory=list)
    ci_config: Path | None = None  # a .dive-ci file for `analyze --ci`
