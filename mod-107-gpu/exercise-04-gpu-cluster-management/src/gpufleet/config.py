"""Settings for gpufleet: defaults < config file < environment (prefix GPUFLEET_)."""

from __future__ import annotations

from aiinfra_shared.config import ExerciseSettings, settings_config


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="GPUFLEET_")
    prometheus_url: str = "http://127.0.0.1:9090"
    fleet_file: str = "examples/fleet.yaml"
