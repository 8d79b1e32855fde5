"""Settings for __PKG__: defaults < config file < environment (prefix __ENVPREFIX__)."""

from __future__ import annotations

from aiinfra_shared.config import ExerciseSettings, settings_config


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="__ENVPREFIX__")
