"""OCI / Docker image-manifest vocabulary and small pure helpers (digests, descriptors)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(payload: Any) -> bytes:
    """Compact, key-sorted JSON: stable bytes so equal content gives equal digests."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    platform: dict[str, str] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Descriptor:
        return cls(media_type=str(data.get("mediaType", "")), digest=str(data["digest"]),
                   size=int(data.get("size", 0)),
                   annotations=dict(data.get("annotations") or {}),
                   platform=data.get("platform"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest,
                               "size": self.size}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform:
            out["platform"] = dict(self.platform)
        return out


@dataclass(frozen=True)
class Manifest:
    """A fetched manifest: its exact bytes (digests are over bytes), type and parsed body."""

    raw: bytes
    media_type: str
    digest: str

    @property
    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.raw)
        return data

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def config(self) -> Descriptor | None:
        cfg = self.body.get("config")
        return Descriptor.from_json(cfg) if cfg else None

    @property
    def layers(self) -> list[Descriptor]:
        return [Descriptor.from_json(d) for d in self.body.get("layers") or []]

    @property
    def children(self) -> list[Descriptor]:
        """Manifests an index points to (empty for an image manifest)."""
        return [Descriptor.from_json(d) for d in self.body.get("manifests") or []]

    def blobs(self) -> list[Descriptor]:
        """Config + layers, config first (the order a pusher uploads them)."""
        cfg = self.config
        return ([cfg] if cfg else []) + self.layers


def media_type_of(raw: bytes, header: str | None) -> str:
    """The manifest's media type: the body's `mediaType`, else the Content-Type header."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = {}
    declared = body.get("mediaType") if isinstance(body, dict) else None
    if declared:
        return str(declared)
    if isinstance(body, dict) and "manifests" in body:
        return OCI_INDEX
    return (header or OCI_MANIFEST).split(";")[0].strip()
