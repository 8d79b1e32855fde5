"""OCI Distribution API client (httpx): auth, retries, manifests, blobs, uploads, mounts.

Auth follows the registry's own 401 challenge, as docker/crane do:
- no challenge: anonymous;
- `Basic realm=...`: send the configured username/password;
- `Bearer realm=...,service=...,scope=...`: ask the token server at `realm` for a token
  (with basic credentials when configured), cache it per scope and retry.

Connection errors and 502/503/504 are retried with exponential backoff; the final error names
the URL. 401/403 become AuthError with a hint. Nothing here knows about policies.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx

from regman.errors import (
    AuthError,
    IntegrityError,
    NotFoundInRegistryError,
    RegistryRequestError,
    RegistryUnavailableError,
)
from regman.oci import ACCEPT, Manifest, media_type_of, sha256_digest

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})
DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass
class TransferStats:
    """Bytes this client moved; replication reports use it to prove incremental copies.
    Updated through `add` (under a lock): parallel blob copies share one client."""

    bytes_uploaded: int = 0
    bytes_downloaded: int = 0
    blobs_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_skipped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="x",service="y"` -> ("bearer", {"realm": "x", "service": "y"})."""
    scheme, _, params = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(params))


class RegistryClient:
    """One registry, one client. Requests may run from several threads (httpx's pool is
    thread-safe; stats are locked), as the parallel blob copy does."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.retries = retries
        self.backoff = backoff
        self.chunk_size = chunk_size
        self.stats = TransferStats()
        self._tokens: dict[str, str] = {}
        self._basic = False
        self._http = httpx.Client(timeout=timeout, follow_redirects=True, transport=transport)

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1]

    def _url(self, path_or_url: str) -> str:
        return urljoin(self.base_url + "/", path_or_url.lstrip("/")) \
            if "://" not in path_or_url else path_or_url

    def _auth_headers(self, scope: str) -> dict[str, str]:
        token = self._tokens.get(scope)
        if token:
            return {"Authorization": f"Bearer {token}"}
        if self._basic and self.credentials:
            basic = httpx.BasicAuth(self.credentials.username, self.credentials.password)
            request = httpx.Request("GET", self.base_url)
            header = next(basic.auth_flow(request)).headers["Authorization"]
            return {"Authorization": header}
        return {}

    def _send(self, method: str, url: str, headers: dict[str, str], content: bytes | None,
              params: dict[str, str] | None, stream: bool) -> httpx.Response:
        """Send once per attempt; retry connection errors and 502/503/504 with backoff."""
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                delay = self.backoff * (2 ** (attempt - 1))
                log.info("retrying %s %s in %.1fs (%s)", method, url, delay, last)
                time.sleep(delay)
            try:
                request = self._http.build_request(method, url, headers=headers,
                                                   content=content, params=params)
                response = self._http.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ReadError, httpx.WriteError,
                    httpx.RemoteProtocolError, httpx.TimeoutException) as exc:
                last = exc
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                last = RuntimeError(f"HTTP {response.status_code}")
                response.close()
                continue
            return response
        raise RegistryUnavailableError(
            f"registry {self.base_url} unreachable after {self.retries + 1} attempts "
            f"({type(last).__name__}: {last}); is it running and is the URL right?")

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
        stream: bool = False,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Authenticated request; answers the 401 challenge once, then maps errors."""
        # BEGIN SOLUTION: send with the scope's auth; on 401 answer the challenge, resend once
        url = self._url(path)
        base_headers = dict(headers or {})
        response = self._send(method, url, {**base_headers, **self._auth_headers(scope)},
                              content, params, stream)
        if response.status_code == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            response.close()
            self._answer_challenge(challenge, scope)
            response = self._send(method, url, {**base_headers, **self._auth_headers(scope)},
                                  content, params, stream)
        if response.status_code in ok:
            return response
        if stream:
            response.read()
        raise self._error_for(response, method, url)
        # END SOLUTION

    def _answer_challenge(self, challenge: str, scope: str) -> None:
        # BEGIN SOLUTION: Basic: use credentials; Bearer: fetch a scope token; else AuthError
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if not self.credentials:
                raise AuthError(f"{self.base_url} requires a login: set REGMAN_USERNAME and "
                                "REGMAN_PASSWORD (or --username/--password)")
            self._basic = True
            return
        if scheme == "bearer" and "realm" in params:
            self._tokens[scope] = self._fetch_token(params)
            return
        raise AuthError(f"{self.base_url} sent an unsupported auth challenge {challenge!r}")
        # END SOLUTION

    def _fetch_token(self, challenge: dict[str, str]) -> str:
        # BEGIN SOLUTION: GET the realm with service, scope, account; 401/403 is AuthError
        query: list[tuple[str, str | int | float | bool | None]] = []
        if challenge.get("service"):
            query.append(("service", challenge["service"]))
        for item in challenge.get("scope", "").split(" "):
            if item:
                query.append(("scope", item))
        if self.credentials:
            query.append(("account", self.credentials.username))
        auth = (httpx.BasicAuth(self.credentials.username, self.credentials.password)
                if self.credentials else None)
        realm = challenge["realm"]
        try:
            response = self._http.get(realm, params=query, auth=auth)
        except httpx.HTTPError as exc:
            raise RegistryUnavailableError(f"token server {realm} unreachable: {exc}") from exc
        if response.status_code in (401, 403):
            hint = ("wrong username or password" if self.credentials
                    else "anonymous access refused; set REGMAN_USERNAME/REGMAN_PASSWORD")
            raise AuthError(f"token server {realm} refused a token (HTTP "
                            f"{response.status_code}): {hint}")
        if response.status_code != 200:
            raise AuthError(f"token server {realm} answered HTTP {response.status_code}")
        body = response.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise AuthError(f"token server {realm} returned no token")
        return str(token)
        # END SOLUTION

    def _error_for(self, response: httpx.Response, method: str, url: str) -> Exception:
        status = response.status_code
        detail = _error_detail(response)
        where = f"{method} {url}"
        if status == 401:
            hint = ("credentials rejected: check REGMAN_USERNAME/REGMAN_PASSWORD"
                    if self.credentials else "login required: set REGMAN_USERNAME/REGMAN_PASSWORD")
            return AuthError(f"{where}: unauthorized ({hint}){detail}")
        if status == 403:
            return AuthError(f"{where}: forbidden (the account lacks permission for this "
                            f"repository/action){detail}")
        if status == 404:
            return NotFoundInRegistryError(f"{where}: not found{detail}")
        if status in RETRY_STATUSES:
            return RegistryUnavailableError(f"{where}: registry answered HTTP {status}{detail}")
        if status >= 500:
            return RegistryUnavailableError(f"{where}: unexpected HTTP {status}{detail}")
        return RegistryRequestError(f"{where}: HTTP {status}{detail}")

    # ------------------------------------------------------------------ API

    def ping(self) -> None:
        """GET /v2/: proves the registry speaks the API (and that our auth works)."""
        self.request("GET", "/v2/", scope="")

    def catalog(self, page_size: int = 1000) -> list[str]:
        return self._paged("/v2/_catalog", "repositories", "registry:catalog:*", page_size)

    def tags(self, repository: str, page_size: int = 1000) -> list[str]:
        try:
            return self._paged(f"/v2/{repository}/tags/list", "tags",
                               f"repository:{repository}:pull", page_size)
        except NotFoundInRegistryError as exc:
            raise NotFoundInRegistryError(
                f"repository {repository!r} not found on {self.base_url}") from exc

    def _paged(self, path: str, key: str, scope: str, page_size: int) -> list[str]:
        items: list[str] = []
        next_path: str | None = path
        params: dict[str, str] | None = {"n": str(page_size)}
        while next_path:
            response = self.request("GET", next_path, scope=scope, params=params)
            items.extend(response.json().get(key) or [])
            link = response.headers.get("Link", "")
            match = re.search(r"<([^>]+)>;\s*rel=\"?next\"?", link)
            next_path, params = (match.group(1), None) if match else (None, None)
        return items

    def get_manifest(self, repository: str, identifier: str) -> Manifest:
        # BEGIN SOLUTION: GET with the Accept list; the bytes must hash to the digest
        response = self.request("GET", f"/v2/{repository}/manifests/{identifier}",
                                scope=f"repository:{repository}:pull",
                                headers={"Accept": ACCEPT})
        raw = response.content
        digest = sha256_digest(raw)
        header_digest = response.headers.get("Docker-Content-Digest")
        if identifier.startswith("sha256:") and digest != identifier:
            raise IntegrityError(f"manifest {repository}@{identifier} content hashes to {digest}")
        if header_digest and header_digest != digest:
            raise IntegrityError(
                f"manifest {repository}:{identifier}: registry says {header_digest}, "
                f"content hashes to {digest}")
        self.stats.add(bytes_downloaded=len(raw))
        return Manifest(raw=raw, media_type=media_type_of(raw, response.headers.get(
            "Content-Type")), digest=digest)
        # END SOLUTION

    def head_manifest(self, repository: str, identifier: str) -> str | None:
        """Digest of the manifest at `identifier`, or None when absent."""
        response = self.request("HEAD", f"/v2/{repository}/manifests/{identifier}",
                                scope=f"repository:{repository}:pull",
                                headers={"Accept": ACCEPT}, ok=(200, 404))
        if response.status_code == 404:
            return None
        digest = response.headers.get("Docker-Content-Digest")
        return str(digest) if digest else None

    def put_manifest(self, repository: str, identifier: str, raw: bytes, media_type: str) -> str:
        response = self.request("PUT", f"/v2/{repository}/manifests/{identifier}",
                                scope=f"repository:{repository}:pull,push",
                                headers={"Content-Type": media_type}, content=raw, ok=(201,))
        expected = sha256_digest(raw)
        returned = response.headers.get("Docker-Content-Digest", expected)
        if returned != expected:
            raise IntegrityError(f"pushed manifest hashes to {expected}, registry stored "
                                 f"{returned}")
        self.stats.add(bytes_uploaded=len(raw))
        return expected

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete by digest (distribution removes every tag pointing to it)."""
        self.request("DELETE", f"/v2/{repository}/manifests/{digest}",
                     scope=f"repository:{repository}:delete", ok=(202, 200))

    def blob_exists(self, repository: str, digest: str) -> bool:
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}",
                                scope=f"repository:{repository}:pull", ok=(200, 404))
        return response.status_code == 200

    def get_blob(self, repository: str, digest: str) -> bytes:
        response = self.request("GET", f"/v2/{repository}/blobs/{digest}",
                                scope=f"repository:{repository}:pull")
        data = response.content
        if sha256_digest(data) != digest:
            raise IntegrityError(f"blob {repository}@{digest} does not match its digest")
        self.stats.add(bytes_downloaded=len(data))
        return data

    def stream_blob(self, repository: str, digest: str) -> Iterator[bytes]:
        """Yield the blob in chunks; raises IntegrityError at the end if the digest differs."""
        import hashlib

        response = self.request("GET", f"/v2/{repository}/blobs/{digest}",
                                scope=f"repository:{repository}:pull", stream=True)
        hasher = hashlib.sha256()
        try:
            for chunk in response.iter_bytes(self.chunk_size):
                hasher.update(chunk)
                self.stats.add(bytes_downloaded=len(chunk))
                yield chunk
        finally:
            response.close()
        if "sha256:" + hasher.hexdigest() != digest:
            raise IntegrityError(f"blob {repository}@{digest} does not match its digest")

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Cross-repository mount (no bytes move). False when the registry declined."""
        # BEGIN SOLUTION: POST ?mount=&from=; 201 mounted, cancel a 202 session, False
        response = self.request(
            "POST", f"/v2/{repository}/blobs/uploads/",
            scope=f"repository:{repository}:pull,push",
            params={"mount": digest, "from": from_repository}, ok=(201, 202))
        if response.status_code == 201:
            self.stats.add(blobs_mounted=1)
            return True
        location = response.headers.get("Location")
        if location:  # the registry opened an upload session instead; cancel it
            self.request("DELETE", location, scope=f"repository:{repository}:pull,push",
                         ok=(204, 200, 202, 404))
        return False
        # END SOLUTION

    def upload_blob(self, repository: str, digest: str, data: bytes) -> None:
        """Monolithic upload: POST to open a session, PUT the bytes with ?digest=."""
        self.upload_blob_chunks(repository, digest, iter([data]) if data else iter([]),
                                monolithic=True)

    def upload_blob_chunks(self, repository: str, digest: str, chunks: Iterator[bytes],
                           monolithic: bool = False) -> int:
        """Chunked upload (PATCH per chunk, PUT to close); returns bytes sent.

        The registry checks the digest on the final PUT, so a corrupt stream never lands.
        """
        # BEGIN SOLUTION: POST a session; PUT ?digest= whole, or PATCH chunks then PUT
        scope = f"repository:{repository}:pull,push"
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/", scope=scope,
                                ok=(202,))
        location = self._location(response)
        sent = 0
        if monolithic:
            data = b"".join(chunks)
            response = self.request("PUT", _with_param(location, "digest", digest), scope=scope,
                                    headers={"Content-Type": "application/octet-stream"},
                                    content=data, ok=(201,))
            sent = len(data)
        else:
            for chunk in chunks:
                if not chunk:
                    continue
                response = self.request(
                    "PATCH", location, scope=scope, content=chunk, ok=(202,),
                    headers={"Content-Type": "application/octet-stream",
                             "Content-Range": f"{sent}-{sent + len(chunk) - 1}"})
                location = self._location(response)
                sent += len(chunk)
            self.request("PUT", _with_param(location, "digest", digest), scope=scope,
                         ok=(201,))
        self.stats.add(bytes_uploaded=sent)
        self.stats.add(blobs_uploaded=1)
        return sent
        # END SOLUTION

    def _location(self, response: httpx.Response) -> str:
        location = response.headers.get("Location")
        if not location:
            raise RegistryUnavailableError(f"{self.base_url}: upload response without Location")
        return self._url(location)


def _with_param(url: str, key: str, value: str) -> str:
    """Append a query parameter; distribution's Location already carries `?_state=...`."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{httpx.QueryParams({key: value})}"


def _error_detail(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return ""
    first = errors[0]
    return f" ({first.get('code', '')}: {first.get('message', '')})"
