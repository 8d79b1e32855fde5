"""The image model every scanner reads: ordered layers with their own file index and
whiteouts, the config (env, user, labels, healthcheck) and the build history.

Loading (adapters/) fills it; everything else (catalogers, secrets, CIS checks) only reads
it, so each check is testable on a hand-made `Image` without a tarball.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Text files up to this size keep their bytes in memory: catalogers and the secret scanner
# read them; bigger or binary files are indexed (path, mode, size) only.
CONTENT_LIMIT = 512 * 1024


@dataclass(frozen=True)
class FileEntry:
    """One tar member of one layer (path without a leading `/` or `./`)."""

    path: str
    kind: str  # file, dir, symlink, hardlink, other
    mode: int = 0o644
    size: int = 0
    uid: int = 0
    gid: int = 0
    linkname: str = ""


@dataclass
class Layer:
    """One layer: its own files (not the merged view), whiteouts and contents."""

    index: int
    digest: str  # the diff_id (digest of the uncompressed tar): identical in every format
    created_by: str = ""
    files: dict[str, FileEntry] = field(default_factory=dict)
    whiteouts: set[str] = field(default_factory=set)  # paths removed from lower layers
    opaque_dirs: set[str] = field(default_factory=set)  # dirs whose lower contents are hidden
    contents: dict[str, bytes] = field(default_factory=dict)  # small text files only


@dataclass
class History:
    created_by: str
    empty_layer: bool = False
    created: str = ""


@dataclass
class Image:
    """A loaded image. `image_id` is the config digest, the same for an image whether it came
    from a docker-archive, an OCI layout or a registry; `manifest_digest` depends on format."""

    name: str
    image_id: str
    layers: list[Layer]
    config: dict[str, Any] = field(default_factory=dict)  # the image config's `config` object
    history: list[History] = field(default_factory=list)
    manifest_digest: str = ""
    source: str = ""  # docker-archive, oci-layout, registry, rootfs

    @property
    def env(self) -> dict[str, str]:
        pairs = (item.split("=", 1) for item in self.config.get("Env") or [])
        return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.config.get("Labels") or {})

    @property
    def user(self) -> str:
        return str(self.config.get("User") or "")

    def digests(self) -> set[str]:
        """Every identity a VEX product may name this image by."""
        return {d for d in (self.image_id, self.manifest_digest) if d}
