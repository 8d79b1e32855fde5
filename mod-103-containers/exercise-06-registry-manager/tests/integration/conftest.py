"""Real registries for the integration tests, seeded with images built in memory."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiinfra_shared.procs.services import OciRegistry
from aiinfra_shared.testing.plugin import in_ci
from click.testing import CliRunner, Result

from regman.adapters.registry import RegistryClient
from regman.cli import cli
from regman.images import (
    BuiltImage,
    build_image,
    build_index,
    build_layer,
    push_image,
    push_index,
    random_layer,
)

pytestmark = pytest.mark.integration


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install {name}; `make setup`)"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return path


def skopeo(*args: str) -> Any:
    """Run skopeo against loopback registries (no TLS); JSON output parsed when possible."""
    binary = require_tool("skopeo")
    result = subprocess.run([binary, *args], capture_output=True, text=True, check=False,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    try:
        return json.loads(result.stdout)
    except ValueError:
        return result.stdout


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def sample_image(version: int, days_old: float = 1.0, size: int = 64 * 1024,
                 labels: dict[str, str] | None = None) -> BuiltImage:
    base = random_layer(size, "shared-base")
    app = build_layer({"app/version.txt": f"{version}\n".encode()})
    return build_image([base, app], created=datetime.now(UTC) - timedelta(days=days_old),
                       labels=labels or {"org.opencontainers.image.version": str(version)})


@pytest.fixture(scope="session")
def source(oci_registry_factory: Callable[[], OciRegistry]) -> OciRegistry:
    return oci_registry_factory()


@pytest.fixture(scope="session")
def target(oci_registry_factory: Callable[[], OciRegistry]) -> OciRegistry:
    return oci_registry_factory()


@pytest.fixture
def client_of() -> Iterator[Callable[..., RegistryClient]]:
    clients: list[RegistryClient] = []

    def make(registry: OciRegistry, **kwargs: Any) -> RegistryClient:
        client = RegistryClient(registry.url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def seeded(source: OciRegistry) -> dict[str, str]:
    """library/app:1..3, an index library/multi:1.0; returns name -> digest."""
    with RegistryClient(source.url) as client:
        digests = {f"app:{v}": push_image(client, "library/app", str(v), sample_image(v))
                   for v in (1, 2, 3)}
        amd = sample_image(10)
        arm = build_image([build_layer({"arch": b"arm64"})], architecture="arm64",
                          created=datetime.now(UTC) - timedelta(days=1))
        digests["multi:1.0"] = push_index(client, "library/multi", "1.0", build_index(
            [(amd, "linux", "amd64"), (arm, "linux", "arm64")]))
    return digests


@pytest.fixture
def tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path
