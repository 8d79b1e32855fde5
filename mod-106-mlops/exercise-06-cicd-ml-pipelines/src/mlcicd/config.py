"""Settings for mlcicd: defaults < config file < environment (prefix MLCICD_)."""

from __future__ import annotations

from pathlib import Path

from aiinfra_shared.config import ExerciseSettings, settings_config


class Settings(ExerciseSettings):
    """Where artifacts go, where deployments live, and the budgets of the smoke test."""

    model_config = settings_config(env_prefix="MLCICD_")

    registry: str = "127.0.0.1:5000"
    """host:port of the OCI registry (plain HTTP on loopback, TLS elsewhere)."""
    repository: str = "ml/breast-cancer"
    """Repository inside the registry the model artifact is pushed to."""
    insecure_registry: bool = True
    state_dir: Path = Path(".mlcicd")
    """Deployments: per environment the slots, the live pointer and the history."""
    github_api_url: str = "https://api.github.com"
    smoke_latency_budget_ms: float = 250.0
    smoke_requests: int = 20
    server_start_timeout_s: float = 30.0
    command_timeout_s: float = 600.0


def load_settings(config_file: Path | None = None) -> Settings:
    return Settings.load(config_file)
