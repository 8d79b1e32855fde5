from pathlib import Path

import pytest
from aiinfra_shared.config import ConfigError

from envman.config import load_settings, user_config_path


@pytest.mark.points(6)
def test_layers_and_sources(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = user_config_path()
    user.write_text('default-backend = "poetry"\nindex_url = "https://user.example/simple"\n'
                    'cache-dir = "/tmp/c"\n')
    loaded = load_settings({"index-url": "https://project.example/simple"})
    assert loaded.settings.default_backend == "poetry"
    assert loaded.sources["default_backend"] == f"user config {user}"
    assert loaded.settings.index_url == "https://project.example/simple"
    assert loaded.sources["index_url"] == "envman.toml [settings]"
    assert loaded.sources["find_links"] == "default"
    assert loaded.settings.tool_env("uv") == {"UV_CACHE_DIR": "/tmp/c/uv"}

    monkeypatch.setenv("ENVMAN_DEFAULT_BACKEND", "venv")
    monkeypatch.setenv("ENVMAN_INDEX_URL", "https://env.example/simple")
    loaded = load_settings({"index-url": "https://project.example/simple"})
    assert loaded.settings.default_backend == "venv"
    assert loaded.settings.index_url == "https://env.example/simple"
    assert loaded.sources["index_url"] == "env ENVMAN_INDEX_URL"


@pytest.mark.points(3)
@pytest.mark.hidden
def test_bad_user_config_is_a_config_error(isolated: Path) -> None:
    user_config_path().write_text('colour = "red"\n')
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings()
    user_config_path().write_text('default_backend = "pipenv"\n')
    with pytest.raises(ConfigError, match="default_backend"):
        load_settings()
