"""Build small, real OCI images in memory (gzip tar layers + config + manifest).

Used by `make run`, the benchmark and the tests to seed registries without Docker. Layers are
deterministic (fixed mtimes, sorted entries), so equal content gives equal digests and shared
base layers really are shared blobs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from regman.adapters.registry import RegistryClient
from regman.oci import (
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Descriptor,
    sha256_digest,
)


@dataclass(frozen=True)
class Layer:
    blob: bytes  # gzip-compressed tar
    diff_id: str  # digest of the uncompressed tar

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(OCI_LAYER_GZIP, sha256_digest(self.blob), len(self.blob))


@dataclass
class BuiltImage:
    """An image manifest plus every blob it references, ready to push."""

    manifest: bytes
    media_type: str
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def size(self) -> int:
        return len(self.manifest) + sum(len(b) for b in self.blobs.values())


def build_layer(files: dict[str, bytes]) -> Layer:
    """A deterministic tar.gz layer containing `files` (path -> content)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    return Layer(blob=gzip.compress(tar_bytes, mtime=0, compresslevel=6),
                 diff_id="sha256:" + hashlib.sha256(tar_bytes).hexdigest())


def random_layer(size: int, seed: str) -> Layer:
    """A layer with `size` bytes of incompressible, seed-determined content."""
    blocks = (size + 63) // 64
    data = b"".join(hashlib.sha512(f"{seed}:{i}".encode()).digest() for i in range(blocks))
    return build_layer({f"data/{seed}.bin": data[:size]})


def build_image(layers: list[Layer], *, created: datetime | None = None,
                labels: dict[str, str] | None = None, architecture: str = "amd64",
                os_name: str = "linux", cmd: list[str] | None = None) -> BuiltImage:
    created = created or datetime.now(UTC)
    config = {
        "architecture": architecture,
        "os": os_name,
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "config": {"Labels": labels or {}, "Cmd": cmd or ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "created_by": "regman images.build_image"} for _ in layers],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_desc = Descriptor(OCI_CONFIG, sha256_digest(config_bytes), len(config_bytes))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_desc.to_json(),
        "layers": [layer.descriptor.to_json() for layer in layers],
    }
    blobs = {config_desc.digest: config_bytes}
    blobs.update({layer.descriptor.digest: layer.blob for layer in layers})
    return BuiltImage(manifest=json.dumps(manifest, indent=2).encode(), media_type=OCI_MANIFEST,
                      blobs=blobs)


@dataclass
class BuiltIndex:
    manifest: bytes
    images: list[BuiltImage]
    media_type: str = OCI_INDEX

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)


def build_index(images: list[tuple[BuiltImage, str, str]]) -> BuiltIndex:
    """A multi-platform index over (image, os, architecture) triples."""
    manifests = [
        {**Descriptor(image.media_type, image.digest, len(image.manifest)).to_json(),
         "platform": {"os": os_name, "architecture": arch}}
        for image, os_name, arch in images
    ]
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    return BuiltIndex(manifest=json.dumps(body, indent=2).encode(),
                      images=[image for image, _, _ in images])


def push_image(client: RegistryClient, repository: str, tag: str | None,
               image: BuiltImage) -> str:
    """Upload missing blobs, then the manifest (by tag, or by digest when tag is None)."""
    for digest, data in image.blobs.items():
        if not client.blob_exists(repository, digest):
            client.upload_blob(repository, digest, data)
    return client.put_manifest(repository, tag or image.digest, image.manifest,
                               image.media_type)


def push_index(client: RegistryClient, repository: str, tag: str, index: BuiltIndex) -> str:
    for image in index.images:
        push_image(client, repository, None, image)
    return client.put_manifest(repository, tag, index.manifest, index.media_type)


def write_oci_layout(directory: Path, images: dict[str, BuiltImage]) -> None:
    """An OCI image layout (`oci:DIR:TAG` for skopeo/umoci) holding `images` by tag."""
    blobs_dir = directory / "blobs" / "sha256"
    blobs_dir.mkdir(parents=True, exist_ok=True)
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    entries = []
    for tag, image in images.items():
        for digest, data in {**image.blobs, image.digest: image.manifest}.items():
            (blobs_dir / digest.split(":", 1)[1]).write_bytes(data)
        entries.append({**Descriptor(image.media_type, image.digest,
                                     len(image.manifest)).to_json(),
                        "annotations": {"org.opencontainers.image.ref.name": tag}})
    (directory / "index.json").write_text(json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}))
