"""Settings: one typed object per exercise, from defaults < config file < environment.

    class Settings(ExerciseSettings):
        model_config = settings_config(env_prefix="ENVMAN_")
        backend: str = "uv"

    settings = Settings.load(Path("envman.toml"))   # file optional; env vars win over it

Validation errors become `ConfigError` whose message has one readable line per field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar, Self

import yaml
from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)


class ConfigError(Exception):
    """Configuration could not be read or validated. `str()` is ready to print."""


def settings_config(env_prefix: str, **kwargs: Any) -> SettingsConfigDict:
    """The model_config every exercise uses: env prefix, nested `__`, unknown keys rejected."""
    config = SettingsConfigDict(env_prefix=env_prefix, env_nested_delimiter="__",
                                extra="forbid")
    config.update(kwargs)  # type: ignore[typeddict-item]
    return config


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a YAML or TOML file into a dict; errors name the file (and line when known)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from exc
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        else:
            data = yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def format_validation_error(error: ValidationError, source: str | None = None) -> str:
    """One line per failing field: `source: field.path: message (got value)`."""
    prefix = f"{source}: " if source else ""
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "<root>"
        got = f" (got {item['input']!r})" if "input" in item and item["type"] != "missing" else ""
        lines.append(f"{prefix}{location}: {item['msg']}{got}")
    return "\n".join(lines)


class _FileSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self.data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


class ExerciseSettings(BaseSettings):
    """Base class: `load(path)` reads an optional YAML/TOML file; env vars override it."""

    model_config = settings_config(env_prefix="AIINFRA_")
    _file_data: ClassVar[dict[str, Any]] = {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first: explicit arguments, environment, then the config file.
        return (init_settings, env_settings, _FileSource(settings_cls, cls._file_data))

    @classmethod
    def load(cls, config_file: Path | None = None, section: str | None = None,
             **overrides: Any) -> Self:
        """Build settings from `config_file` (optional; `section` picks a sub-table)."""
        data: dict[str, Any] = {}
        source = None
        if config_file is not None:
            source = str(config_file)
            data = read_config_file(Path(config_file))
            if section:
                sub = data.get(section, {})
                if not isinstance(sub, dict):
                    raise ConfigError(f"{source}: [{section}] must be a table")
                data = sub
        previous = cls._file_data
        cls._file_data = data
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, source)) from exc
        finally:
            cls._file_data = previous
