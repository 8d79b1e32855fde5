"""Fixtures: a real package index (tiny wheels served over HTTP on loopback) and a CLI runner.

Every test runs with an isolated user config, pip config and Poetry cache, pointed at that
index, so nothing depends on the network or on this machine's settings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.procs.process import ServiceProcess
from click.testing import CliRunner, Result

from envman.cli import cli
from tests.support.wheelhouse import build_wheelhouse, serve_command

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="session")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/simple/"
    server = ServiceProcess("index", serve_command(root, port), root.parent / "index.log",
                            ready_http=url, timeout=30)
    server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def poetry_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("poetry-cache")


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No user config, no machine pip config; returns a fresh project directory."""
    monkeypatch.setenv("ENVMAN_CONFIG", str(tmp_path / "user-config.toml"))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    for var in ("ENVMAN_INDEX_URL", "ENVMAN_DEFAULT_BACKEND", "ENVMAN_FIND_LINKS",
                "ENVMAN_CACHE_DIR", "VIRTUAL_ENV", "CONDA_PREFIX"):
        monkeypatch.delenv(var, raising=False)
    project = tmp_path / "proj"
    project.mkdir()
    return project


@pytest.fixture
def project(isolated: Path, index_url: str, poetry_cache: Path,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated project directory whose package index is the local one."""
    monkeypatch.setenv("ENVMAN_INDEX_URL", index_url)
    monkeypatch.setenv("POETRY_CACHE_DIR", str(poetry_cache))
    return isolated


Invoke = Callable[..., Result]


@pytest.fixture
def envman() -> Invoke:
    """`envman(dir, *args)`: run the CLI through click in project `dir`."""

    def invoke(directory: Path, *args: str) -> Result:
        return CliRunner().invoke(cli, ["-C", str(directory), *args], catch_exceptions=False)

    return invoke


def write_spec(directory: Path, backend: str = "uv", deps: tuple[str, ...] = ("emt-app>=1.0",),
               dev: tuple[str, ...] = ("emt-devtool",), groups: str = "",
               extra: str = "") -> Path:
    path = directory / "envman.toml"
    path.write_text(
        f'[project]\nname = "demo"\npython = "{PY}"\nbackend = "{backend}"\n'
        f"dependencies = {list(deps)!r}\ndev-dependencies = {list(dev)!r}\n".replace("'", '"')
        + groups + extra)
    return path
