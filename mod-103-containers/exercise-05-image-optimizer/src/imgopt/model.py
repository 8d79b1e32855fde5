"""The image as imgopt sees it: layers of tar entries plus the history line that made each.

Adapters (docker-archive, OCI layout, registry) produce these; the analysis is pure over them.
Paths are normalised: no leading "/" or "./", no trailing "/".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

EntryKind = Literal["file", "dir", "symlink", "hardlink", "other", "whiteout", "opaque"]


@dataclass(frozen=True)
class Entry:
    """One tar member of a layer. Whiteouts carry the path they delete (without `.wh.`);
    an opaque marker carries the directory whose lower contents it hides."""

    path: str
    kind: EntryKind
    size: int = 0  # tar header size (0 for dirs, links, whiteouts)
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    link: str = ""
    digest: str = ""  # sha256 of the content of a regular file


@dataclass(frozen=True)
class Layer:
    index: int
    digest: str  # diff id (sha256 of the uncompressed tar) when known
    created_by: str
    entries: tuple[Entry, ...]

    @property
    def size(self) -> int:
        """Sum of the entries' tar sizes: what dive calls the layer size."""
        return sum(entry.size for entry in self.entries)


@dataclass(frozen=True)
class Image:
    source: str
    layers: tuple[Layer, ...]
    config: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)


def normalise(path: str) -> str:
    """`./usr/bin/` -> `usr/bin`: the form every module compares paths in."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    return "/".join(parts)
