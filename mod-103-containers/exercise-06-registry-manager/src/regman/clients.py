"""Build RegistryClients from settings: which URL and which credentials for a host.

Credentials are per registry, never one pair for all:
- `REGMAN_USERNAME` / `REGMAN_PASSWORD` are the login of the default registry
  (`REGMAN_REGISTRY`) only;
- every registry (the default one too, when those are unset) is looked up in the Docker
  client config (`REGMAN_DOCKER_CONFIG`, else `$DOCKER_CONFIG/config.json`, else
  `~/.docker/config.json`): `credHelpers[host]`, then `auths[host]`, then `credsStore`,
  exactly as `docker login` stores them;
- nothing found: anonymous.
A token server receives only the credentials of the registry whose challenge sent us there.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from aiinfra_shared.cli import CLIError, ExitCode

from regman.adapters.registry import Credentials, RegistryClient
from regman.config import Settings
from regman.reference import host_of, registry_base_url


def credentials(username: str | None, password: str | None) -> Credentials | None:
    return Credentials(username, password or "") if username else None


def docker_config_path(settings: Settings) -> Path:
    if settings.docker_config is not None:
        return settings.docker_config
    base = os.environ.get("DOCKER_CONFIG")
    return (Path(base) if base else Path.home() / ".docker") / "config.json"


def _server_host(key: str) -> str:
    """`https://host:5000/v2/` or `host:5000` -> `host:5000` (how auths keys are written)."""
    return key.split("://", 1)[-1].split("/", 1)[0]


def _helper(name: str, host: str, path: Path) -> Credentials | None:
    # BEGIN SOLUTION: docker-credential-NAME get, server on stdin, JSON Username/Secret out
    binary = shutil.which(f"docker-credential-{name}")
    if binary is None:
        raise CLIError(f"{path}: credential helper docker-credential-{name} (for {host}) "
                       "is not on PATH", ExitCode.CONFIG)
    result = subprocess.run([binary, "get"], input=host, capture_output=True, text=True,
                            check=False, timeout=60)
    if result.returncode != 0:
        if "credentials not found" in (result.stdout + result.stderr).lower():
            return None
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CLIError(f"docker-credential-{name} get {host} failed: {tail[0]}",
                       ExitCode.CONFIG)
    try:
        answer = json.loads(result.stdout)
        return Credentials(str(answer["Username"]), str(answer["Secret"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise CLIError(f"docker-credential-{name} get {host}: unreadable answer",
                       ExitCode.CONFIG) from exc
    # END SOLUTION


def docker_credentials(host: str, path: Path) -> Credentials | None:
    """The login the Docker config at `path` holds for `host` (None: none, or no file)."""
    # BEGIN SOLUTION: credHelpers[host], auths[host] (auth or username/password), credsStore
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CLIError(f"{path}: cannot read ({exc.strerror})", ExitCode.CONFIG) from exc
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CLIError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})",
                       ExitCode.CONFIG) from exc
    if not isinstance(data, dict):
        raise CLIError(f"{path}: expected a JSON object", ExitCode.CONFIG)
    helpers = data.get("credHelpers") or {}
    if isinstance(helpers, dict):
        for key, name in helpers.items():
            if _server_host(key) == host:
                return _helper(str(name), host, path)
    auths = data.get("auths") or {}
    if isinstance(auths, dict):
        for key, entry in auths.items():
            if _server_host(key) != host or not isinstance(entry, dict):
                continue
            if entry.get("auth"):
                try:
                    user, sep, secret = base64.b64decode(entry["auth"]).decode().partition(":")
                except ValueError as exc:
                    raise CLIError(f"{path}: auths[{key!r}].auth is not base64(user:password)",
                                   ExitCode.CONFIG) from exc
                if sep:
                    return Credentials(user, secret)
            if entry.get("username"):
                return Credentials(str(entry["username"]), str(entry.get("password", "")))
    store = data.get("credsStore")
    if isinstance(store, str) and store:
        return _helper(store, host, path)
    return None
    # END SOLUTION


def credentials_for(settings: Settings, host: str) -> Credentials | None:
    """REGMAN_USERNAME/PASSWORD for the default registry, else the Docker config's login."""
    if settings.username and host == host_of(settings.registry):
        return credentials(settings.username, settings.password)
    return docker_credentials(host, docker_config_path(settings))


def client_for(settings: Settings, registry: str | None = None) -> RegistryClient:
    """A client for `registry` (host or URL); the configured default when None."""
    default_host = host_of(settings.registry)
    target = registry or settings.registry
    if "://" in target:
        url = target.rstrip("/")
    elif host_of(target) == default_host:
        url = settings.registry.rstrip("/")
        if "://" not in url:
            url = registry_base_url(url, tuple(settings.plain_http))
    else:
        url = registry_base_url(target, tuple(settings.plain_http))
    return RegistryClient(url, credentials_for(settings, host_of(url)),
                          timeout=settings.timeout, retries=settings.retries,
                          backoff=settings.backoff, chunk_size=settings.chunk_size)
