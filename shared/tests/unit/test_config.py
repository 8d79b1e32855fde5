from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from aiinfra_shared.config import ConfigError, ExerciseSettings, settings_config


class Database(BaseModel):
    host: str = "localhost"
    port: int = 5432


class Settings(ExerciseSettings):
    model_config = settings_config(env_prefix="DEMO_")
    name: str = "default"
    workers: int = 1
    database: Database = Database()


def test_defaults_file_env_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("name: from-file\nworkers: 3\ndatabase:\n  port: 6543\n")
    monkeypatch.setenv("DEMO_WORKERS", "8")
    monkeypatch.setenv("DEMO_DATABASE__HOST", "db.internal")
    settings = Settings.load(config)
    assert settings.name == "from-file"  # file beats default
    assert settings.workers == 8  # env beats file
    assert settings.database.host == "db.internal" and settings.database.port == 6543


def test_toml_section(tmp_path: Path) -> None:
    config = tmp_path / "project.toml"
    config.write_text('[tool]\nx = 1\n[demo]\nname = "toml"\n')
    assert Settings.load(config, section="demo").name == "toml"


def test_validation_errors_name_file_and_field(tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("workers: many\nunknown_key: 1\n")
    with pytest.raises(ConfigError) as excinfo:
        Settings.load(config)
    lines = str(excinfo.value).splitlines()
    assert any(line.startswith(f"{config}: workers: ") and "'many'" in line for line in lines)
    assert any(line.startswith(f"{config}: unknown_key: Extra inputs") for line in lines)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("name: ok\nworkers: [1, 2\n")
    with pytest.raises(ConfigError, match=r"demo.yaml: invalid YAML at line \d+"):
        Settings.load(config)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        Settings.load(tmp_path / "absent.yaml")


def test_file_values_do_not_leak_between_loads(tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("name: once\n")
    assert Settings.load(config).name == "once"
    assert Settings.load().name == "default"
