"""Image references (`host[:port]/repo[:tag][@sha256:...]`): parsing and registry URLs.

Pure functions, no I/O. The grammar follows distribution/reference, simplified to what a
private registry needs: a registry host is required unless a default registry is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from regman.errors import BadReferenceError

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
REPOSITORY_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST_RE = re.compile(r"^(?:[a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class Reference:
    """A parsed image reference. `identifier` is what goes into /manifests/<identifier>."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def identifier(self) -> str:
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str) -> Reference:
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str) -> Reference:
        return replace(self, digest=digest)

    def with_repository(self, repository: str) -> Reference:
        return replace(self, repository=repository)

    @property
    def name(self) -> str:
        """`host/repo` (cosign's docker-reference identity)."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _looks_like_host(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost" or \
        component.startswith("[")


def host_of(url_or_host: str) -> str:
    """`http://127.0.0.1:5000/` -> `127.0.0.1:5000`; a bare host is returned unchanged."""
    text = url_or_host.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.rstrip("/")


def parse_reference(text: str, default_registry: str | None = None,
                    require_identifier: bool = False) -> Reference:
    """Parse `text`; raises BadReferenceError with a message that says what is wrong."""
    raw = text.strip()
    if not raw:
        raise BadReferenceError("empty image reference")
    if "://" in raw:
        raw = raw.split("://", 1)[1]
    digest = None
    if "@" in raw:
        raw, digest = raw.split("@", 1)
        if not DIGEST_RE.match(digest):
            raise BadReferenceError(
                f"bad reference {text!r}: digest must look like sha256:<64 hex chars>")
    first, _, rest = raw.partition("/")
    if rest and _looks_like_host(first):
        registry, remainder = first, rest
    elif default_registry:
        registry, remainder = host_of(default_registry), raw
    else:
        raise BadReferenceError(
            f"bad reference {text!r}: no registry host (write HOST[:PORT]/REPO[:TAG] or set "
            "REGMAN_REGISTRY)")
    if not _HOST_RE.match(registry):
        raise BadReferenceError(f"bad reference {text!r}: invalid registry host {registry!r}")
    tag = None
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1:]
        if not TAG_RE.match(tag):
            raise BadReferenceError(
                f"bad reference {text!r}: invalid tag {tag!r} (letters, digits, _ . -; max 128)")
    if not REPOSITORY_RE.match(remainder):
        raise BadReferenceError(
            f"bad reference {text!r}: invalid repository {remainder!r} (lowercase letters, "
            "digits and separators . _ - /)")
    if require_identifier and not (tag or digest):
        raise BadReferenceError(f"bad reference {text!r}: needs a :tag or @digest")
    return Reference(registry=registry, repository=remainder, tag=tag, digest=digest)


def registry_base_url(registry: str, plain_http: tuple[str, ...] = ()) -> str:
    """HTTPS unless the host is loopback or listed as plain-HTTP (private test registries)."""
    hostname = registry.rsplit(":", 1)[0] if not registry.endswith("]") else registry
    insecure = hostname in LOOPBACK_HOSTS or registry in plain_http or hostname in plain_http
    return f"{'http' if insecure else 'https'}://{registry}"
