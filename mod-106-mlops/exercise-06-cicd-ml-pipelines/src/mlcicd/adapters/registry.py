"""The OCI registry through the `oras` Python SDK: push files with annotations, pull them back."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from mlcicd.errors import MlcicdError, NotFoundError, UnavailableError


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


class Registry:
    def __init__(self, host: str, insecure: bool = True) -> None:
        import oras.provider  # imported late: its import pulls in requests' adapters

        self.host = host
        self._client = oras.provider.Registry(hostname=host, insecure=insecure)
        self._reachable = False

    def _ping(self, what: str) -> None:
        """One quick probe of /v2/ first: oras retries a refused connection five times with
        3**n s back-off (minutes), which is no way to learn that a registry is down."""
        if self._reachable:
            return
        try:
            requests.get(f"{self._client.prefix}://{self.host}/v2/", timeout=5)
        except requests.exceptions.RequestException as exc:
            raise UnavailableError(f"registry {self.host} is unreachable ({what})") from exc
        self._reachable = True

    def _guard(self, what: str, call: Any) -> Any:
        self._ping(what)
        try:
            return call()
        except requests.exceptions.ConnectionError as exc:
            raise UnavailableError(f"registry {self.host} is unreachable ({what})") from exc
        except ValueError as exc:
            if "404" in str(exc) or "not found" in str(exc).lower():
                raise NotFoundError(f"{what}: not found in registry {self.host}") from exc
            raise MlcicdError(f"{what}: {exc}") from exc

    def push(self, target: str, folder: Path, files: list[str],
             annotations: dict[str, str]) -> None:
        """Push `files` (relative to `folder`) as one artifact; blob names stay relative."""
        with _cwd(folder):
            self._guard(f"push {target}", lambda: self._client.push(
                target=target, files=files, manifest_annotations=annotations, quiet=True))

    def tag(self, source: str, target: str) -> None:
        """A second tag for the same manifest (copy the manifest, no blob upload)."""
        manifest = self.manifest(source)
        container = self._client.get_container(target)
        self._guard(f"tag {target}", lambda: self._client.upload_manifest(manifest, container))

    def manifest(self, target: str) -> dict[str, Any]:
        result: dict[str, Any] = self._guard(f"manifest {target}",
                                             lambda: self._client.get_manifest(target))
        return result

    def digest(self, target: str) -> str:
        container = self._client.get_container(target)
        url = f"{self._client.prefix}://{container.manifest_url()}"
        response = self._guard(f"digest {target}", lambda: self._client.do_request(
            url, "HEAD", headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}))
        if response.status_code == 404:
            raise NotFoundError(f"{target}: not found in registry {self.host}")
        return str(response.headers.get("Docker-Content-Digest", ""))

    def pull(self, target: str, out: Path) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        paths = self._guard(f"pull {target}",
                            lambda: self._client.pull(target=target, outdir=str(out)))
        return [Path(p) for p in paths]

    def tags(self, repository: str) -> list[str]:
        self._ping("tags")
        try:
            response = requests.get(f"{self._client.prefix}://{self.host}/v2/{repository}/tags/list",
                                    timeout=10)
        except requests.exceptions.ConnectionError as exc:
            raise UnavailableError(f"registry {self.host} is unreachable (tags)") from exc
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return sorted(response.json().get("tags") or [])
