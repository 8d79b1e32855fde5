"""Registries through skopeo: copy an image to a temporary OCI layout, list tags, inspect.

Credentials come from a Docker `config.json` (`--authfile`: `$IMGSEC_AUTHFILE`, else
`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` when it exists). Loopback and the
hosts in `insecure_hosts` are spoken to over plain HTTP.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from imgsec.errors import NotFoundError, UnavailableError

TIMEOUT = 300.0


def default_authfile() -> Path | None:
    explicit = os.environ.get("IMGSEC_AUTHFILE")
    if explicit:
        return Path(explicit)
    base = Path(os.environ["DOCKER_CONFIG"]) if os.environ.get("DOCKER_CONFIG") else \
        Path.home() / ".docker"
    candidate = base / "config.json"
    return candidate if candidate.is_file() else None


def _is_plain_http(host: str, insecure_hosts: Sequence[str]) -> bool:
    name = host.rsplit(":", 1)[0]
    return name in ("127.0.0.1", "localhost", "::1", "[::1]") or host in insecure_hosts


def split_ref(ref: str) -> tuple[str, str, str]:
    """`host:port/repo/name:tag` -> (host, repository, tag or digest); tag defaults to latest."""
    ref = ref.removeprefix("docker://")
    host, _, rest = ref.partition("/")
    if not rest or ("." not in host and ":" not in host and host != "localhost"):
        raise ValueError(f"{ref!r} is not a registry reference (host[:port]/repo[:tag])")
    if "@" in rest:
        repository, _, digest = rest.partition("@")
        return host, repository, digest
    repository, _, tag = rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (
        rest, "", "latest")
    return host, repository, tag


class Skopeo:
    def __init__(self, binary: str | None = None, authfile: Path | None = None,
                 insecure_hosts: Sequence[str] = ()) -> None:
        self.binary = binary or shutil.which("skopeo") or ""
        if not self.binary:
            raise UnavailableError("skopeo is not installed (apt-get install skopeo)")
        self.authfile = authfile if authfile is not None else default_authfile()
        self.insecure_hosts = tuple(insecure_hosts)

    def _run(self, args: list[str], what: str) -> str:
        try:
            result = subprocess.run([self.binary, *args], capture_output=True, text=True,
                                    check=False, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise UnavailableError(f"skopeo {args[0]} {what}: timed out") from exc
        if result.returncode != 0:
            message = (result.stderr.strip().splitlines() or ["failed"])[-1]
            lowered = message.lower()
            if "manifest unknown" in lowered or "name unknown" in lowered or \
                    "not found" in lowered:
                raise NotFoundError(f"{what}: not found in the registry")
            if "unauthorized" in lowered or "authentication required" in lowered:
                raise UnavailableError(f"{what}: unauthorized (check the Docker config.json)")
            raise UnavailableError(f"{what}: registry unreachable or failed: {message[-200:]}")
        return result.stdout

    def _tls_auth(self, host: str, prefix: str) -> list[str]:
        plain = _is_plain_http(host, self.insecure_hosts)
        args = [f"--{prefix}tls-verify={'false' if plain else 'true'}"]
        if self.authfile is not None:
            args.append(f"--{prefix}authfile={self.authfile}")
        return args

    def copy_to_layout(self, ref: str, layout: Path, tag: str = "scan") -> str:
        """Copy `ref` into an OCI layout at `layout`; returns the source manifest digest."""
        host, _, _ = split_ref(ref)
        digest_file = layout.parent / f".{layout.name}.digest"
        self._run(["copy", "--quiet", *self._tls_auth(host, "src-"),
                   "--digestfile", str(digest_file), f"docker://{ref.removeprefix('docker://')}",
                   f"oci:{layout}:{tag}"], ref)
        return digest_file.read_text().strip() if digest_file.exists() else ""

    def list_tags(self, repository_ref: str) -> list[str]:
        host, _, _ = split_ref(repository_ref + ":x")
        out = self._run(["list-tags", *self._tls_auth(host, ""),
                         f"docker://{repository_ref.removeprefix('docker://')}"], repository_ref)
        return sorted(json.loads(out).get("Tags") or [])

    def digest(self, ref: str) -> str:
        host, _, _ = split_ref(ref)
        out = self._run(["inspect", "--no-tags", *self._tls_auth(host, ""),
                         f"docker://{ref.removeprefix('docker://')}"], ref)
        return str(json.loads(out).get("Digest", ""))
