"""Settings for envman: defaults < user config < project `[settings]` < environment (ENVMAN_*).

The user config file is `$ENVMAN_CONFIG`, else `$XDG_CONFIG_HOME/envman/config.toml`, else
`~/.config/envman/config.toml`. Keys may be written `index-url` or `index_url`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiinfra_shared.config import (
    ConfigError,
    ExerciseSettings,
    format_validation_error,
    read_config_file,
    settings_config,
)
from pydantic import ValidationError

ENV_PREFIX = "ENVMAN_"


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix=ENV_PREFIX)

    default_backend: Literal["venv", "uv", "poetry", "conda"] = "uv"
    cache_dir: Path | None = None
    index_url: str | None = None
    find_links: str | None = None
    conda_exe: str | None = None
    timeout: float = 900.0

    def tool_env(self, tool: str) -> dict[str, str]:
        """Environment variables that point one tool at the configured cache and index."""
        env: dict[str, str] = {}
        if self.cache_dir is not None:
            cache = str(Path(self.cache_dir).expanduser() / tool)
            env.update({"uv": {"UV_CACHE_DIR": cache}, "pip": {"PIP_CACHE_DIR": cache},
                        "poetry": {"POETRY_CACHE_DIR": cache},
                        "conda": {"CONDA_PKGS_DIRS": cache}}.get(tool, {}))
        return env


def user_config_path() -> Path:
    explicit = os.environ.get("ENVMAN_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "envman" / "config.toml"


def _normalise(data: dict[str, Any], source: str) -> dict[str, Any]:
    # BEGIN SOLUTION: map - to _, reject unknown keys naming the source
    out = {key.replace("-", "_"): value for key, value in data.items()}
    unknown = sorted(set(out) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"{source}: unknown setting {unknown[0]!r} "
                          f"(known: {', '.join(sorted(Settings.model_fields))})")
    return out
    # END SOLUTION


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    sources: dict[str, str]  # field -> where its value came from


def load_settings(project_settings: dict[str, Any] | None = None,
                  project_source: str = "envman.toml [settings]") -> LoadedSettings:
    """Merge the layers and remember, per field, which layer won (for `config show`)."""
    # BEGIN SOLUTION: merge user < project < ENVMAN_* env, note which layer won per field
    user_path = user_config_path()
    user: dict[str, Any] = {}
    if user_path.is_file():
        user = _normalise(read_config_file(user_path), str(user_path))
    project = _normalise(project_settings or {}, project_source)
    merged = {**user, **project}
    sources: dict[str, str] = {}
    for name in Settings.model_fields:
        if f"{ENV_PREFIX}{name.upper()}" in os.environ:
            sources[name] = f"env {ENV_PREFIX}{name.upper()}"
        elif name in project:
            sources[name] = project_source
        elif name in user:
            sources[name] = f"user config {user_path}"
        else:
            sources[name] = "default"
    previous = Settings._file_data
    Settings._file_data = merged
    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "settings")) from exc
    finally:
        Settings._file_data = previous
    return LoadedSettings(settings, sources)
    # END SOLUTION
