"""Flatten ordered layers into the filesystem a container sees, keeping what was deleted.

OCI whiteouts: `dir/.wh.name` removes `dir/name` from lower layers, `dir/.wh..wh..opq`
hides everything below `dir` that lower layers put there. A deleted file is still inside
the image (its bytes ship in the lower layer's blob), so the result keeps a record of every
deletion: secrets in deleted files (trivy#2194) and packages removed above (trivy#3924) are
reported from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imgsec.model import FileEntry, Layer

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


@dataclass(frozen=True)
class Deleted:
    path: str
    added_in: int  # layer index that put the file there
    removed_in: int  # layer index whose whiteout hid it


@dataclass
class FlatView:
    files: dict[str, tuple[int, FileEntry]] = field(default_factory=dict)  # path -> (layer, entry)
    deleted: list[Deleted] = field(default_factory=list)

    def layer_of(self, path: str) -> int | None:
        hit = self.files.get(path)
        return hit[0] if hit else None


def split_whiteout(path: str) -> tuple[str, str] | None:
    """`a/b/.wh.c` -> ("whiteout", "a/b/c"); `a/.wh..wh..opq` -> ("opaque", "a")."""
    directory, _, name = path.rpartition("/")
    if name == OPAQUE_MARKER:
        return "opaque", directory
    if name.startswith(WHITEOUT_PREFIX):
        target = name[len(WHITEOUT_PREFIX):]
        return "whiteout", f"{directory}/{target}" if directory else target
    return None


def _under(path: str, directory: str) -> bool:
    return directory == "" or path.startswith(directory + "/")


def flatten(layers: list[Layer]) -> FlatView:
    """Apply layers bottom-up: opaque dirs and whiteouts of a layer remove lower entries,
    then the layer's own files are added (the same order containers/storage uses)."""
    view = FlatView()
    # BEGIN SOLUTION: per layer: opaque dirs, then whiteouts (path and below), then own files
    for layer in layers:
        doomed: list[str] = []
        for directory in layer.opaque_dirs:
            doomed += [p for p in view.files if _under(p, directory) and p != directory]
        for target in layer.whiteouts:
            doomed += [p for p in view.files if p == target or _under(p, target)]
        for path in dict.fromkeys(doomed):
            if path in view.files:
                added_in, _entry = view.files.pop(path)
                view.deleted.append(Deleted(path, added_in, layer.index))
        for path, entry in layer.files.items():
            view.files[path] = (layer.index, entry)
    # END SOLUTION
    return view


def file_content(layers: list[Layer], view: FlatView, path: str) -> bytes | None:
    """The bytes a container would read at `path` (None if absent, deleted or not kept)."""
    hit = view.files.get(path)
    if hit is None:
        return None
    return layers[hit[0]].contents.get(path)
