"""Layer analysis: dive-compatible efficiency next to bytes that can really be reclaimed,
and an explanation for every wasted byte.

Two views of the same layers:

* dive 0.13's metrics, reproduced exactly: every *leaf* node of every layer tree counts; a
  path's cost is the sum of all its copies, its minimum the smallest copy (a whiteout costs 0,
  or the size of the directory it deletes). `efficiency = sum(min) / sum(all copies)`,
  `wastedBytes` = all copies of every path seen in two or more layers, `userWastedPercent` =
  wasted / bytes of every layer but the first. dive counts the copy you keep as waste
  (wagoodman/dive#684) and never says which instruction caused it (dive#238).
* imgopt's own replay of the union filesystem: a copy is *reclaimable* when a later layer
  hides it (overwrite, whiteout, opaque dir, chmod/chown re-copy); the copy visible in the
  final filesystem is never counted. Caches still visible at the end are reported apart.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from imgopt.model import Entry, Image, Layer

WasteReason = Literal["overwritten", "deleted-later", "metadata-only", "cache"]

# Globs over normalised paths: what package managers and Python leave behind.
CACHE_PATTERNS: dict[str, tuple[str, ...]] = {
    "apt lists": ("var/lib/apt/lists/*",),
    "apt cache": ("var/cache/apt/*",),
    "apk cache": ("var/cache/apk/*",),
    "pip cache": ("root/.cache/pip/*", "home/*/.cache/pip/*", "*/.cache/pip/*"),
    "npm cache": ("root/.npm/*", "home/*/.npm/*", "*/.npm/_cacache/*"),
    "yarn cache": ("usr/local/share/.cache/yarn/*", "*/.cache/yarn/*"),
    "__pycache__": ("*/__pycache__/*", "__pycache__/*"),
}


@dataclass(frozen=True)
class DiveMetrics:
    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float  # a fraction, as dive's --ci rules compare it
    size_bytes: int
    user_size_bytes: int
    inefficiencies: tuple[tuple[str, int, int], ...]  # (path "/x", copies, cumulative bytes)


@dataclass(frozen=True)
class WasteItem:
    """A copy of `path` that costs bytes: written by `layer`, hidden by `by_layer` (None for a
    cache still visible in the final filesystem)."""

    path: str
    size: int
    reason: WasteReason
    layer: int
    by_layer: int | None
    detail: str = ""


@dataclass(frozen=True)
class LayerSummary:
    index: int
    digest: str
    created_by: str
    size: int
    files: int
    whiteouts: int
    opaque_dirs: tuple[str, ...]
    duplicates: int  # paths this layer writes again over a file of a lower layer


@dataclass
class Analysis:
    source: str
    dive: DiveMetrics
    layers: list[LayerSummary]
    waste: list[WasteItem]
    final_files: dict[str, int]  # visible regular files -> size
    top_dirs: list[tuple[str, int]] = field(default_factory=list)

    @property
    def reclaimable_bytes(self) -> int:
        return sum(item.size for item in self.waste if item.reason != "cache")

    @property
    def cache_bytes(self) -> int:
        return sum(item.size for item in self.waste if item.reason == "cache")

    @property
    def final_size(self) -> int:
        return sum(self.final_files.values())


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _under(path: str, root: str) -> bool:
    return path.startswith(root + "/")


def dive_metrics(layers: tuple[Layer, ...] | list[Layer]) -> DiveMetrics:
    """dive 0.13's `filetree.Efficiency` and `image.Analyze`, over our layer model."""
    # BEGIN SOLUTION: per-layer leaf nodes; whiteouts cost the deleted dir's stacked size
    cumulative: dict[str, int] = defaultdict(int)
    minimum: dict[str, int] = {}
    copies: dict[str, int] = defaultdict(int)
    # The stacked tree below the current layer: path -> (size, is_dir), as dive stacks it.
    stacked: dict[str, tuple[int, bool]] = {}
    for layer in layers:
        explicit = {e.path: e for e in layer.entries if e.kind != "opaque" and e.path}
        nodes = set(explicit)
        for path in list(explicit):
            nodes.update(_ancestors(path))
        parents: set[str] = set()
        for path in nodes:
            parents.update(_ancestors(path)[-1:])
        for path in nodes - parents:  # leaves only, like dive's visitEvaluator
            entry = explicit.get(path)
            size = 0
            if entry is not None and entry.kind == "whiteout":
                previous = stacked.get(path)
                if previous is not None and previous[1]:
                    size = previous[0] + sum(s for p, (s, _) in stacked.items()
                                             if _under(p, path))
            elif entry is not None:
                size = entry.size
            cumulative[path] += size
            minimum[path] = size if path not in minimum else min(minimum[path], size)
            copies[path] += 1
        # Stack this layer onto the tree (implicit parents get an empty, non-dir payload).
        for path in sorted(nodes):
            entry = explicit.get(path)
            if entry is not None and entry.kind == "whiteout":
                previous = stacked.pop(path, None)
                if previous is not None and not previous[1]:
                    continue  # a file: nothing below it (no scan, so big images stay linear)
                for gone in [p for p in stacked if _under(p, path)]:
                    del stacked[gone]
            elif entry is not None:
                stacked[path] = (entry.size, entry.kind == "dir")
            else:
                stacked[path] = (0, False)
    total = sum(cumulative.values())
    efficiency = 1.0 if total == 0 else sum(minimum.values()) / total
    inefficient = sorted(((f"/{p}", copies[p], cumulative[p]) for p in copies if copies[p] >= 2),
                         key=lambda item: (-item[2], item[0]))
    wasted = sum(item[2] for item in inefficient)
    sizes = [layer.size for layer in layers]
    user = sum(sizes[1:])
    return DiveMetrics(efficiency=efficiency, wasted_bytes=wasted,
                       user_wasted_percent=(wasted / user) if user else 0.0,
                       size_bytes=sum(sizes), user_size_bytes=user,
                       inefficiencies=tuple(inefficient))
    # END SOLUTION


def cache_kind(path: str) -> str | None:
    """Which cache a visible file belongs to (`apt lists`, `pip cache`...), or None."""
    # BEGIN SOLUTION: match the normalised path against CACHE_PATTERNS
    for kind, patterns in CACHE_PATTERNS.items():
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns):
            return kind
    return None
    # END SOLUTION


def _hide(visible: dict[str, tuple[Entry, int]], path: str, by_layer: int,
          reason: WasteReason, waste: list[WasteItem], new: Entry | None = None) -> None:
    """Drop `path` from the union view, recording the bytes its copy still costs."""
    old, layer = visible.pop(path)
    if old.kind != "file" or old.size == 0:
        return
    if new is not None and new.kind == "file" and new.digest and new.digest == old.digest:
        changed = []
        if new.mode != old.mode:
            changed.append(f"mode {old.mode:o}->{new.mode:o}")
        if (new.uid, new.gid) != (old.uid, old.gid):
            changed.append(f"owner {old.uid}:{old.gid}->{new.uid}:{new.gid}")
        detail = ", ".join(changed) or "same content written again"
        waste.append(WasteItem(path, old.size, "metadata-only", layer, by_layer, detail))
        return
    waste.append(WasteItem(path, old.size, reason, layer, by_layer))


def replay(layers: tuple[Layer, ...] | list[Layer]) -> tuple[dict[str, tuple[Entry, int]],
                                                             list[WasteItem]]:
    """Apply the layers as a container runtime does; return the final view and every copy
    that a later layer hid (with the layer that wrote it and the one that hid it)."""
    # BEGIN SOLUTION: opaque dirs, then whiteouts, then entries; record each hidden copy
    visible: dict[str, tuple[Entry, int]] = {}
    waste: list[WasteItem] = []
    for layer in layers:
        for entry in layer.entries:
            if entry.kind == "opaque":
                for path in [p for p in visible if _under(p, entry.path)]:
                    _hide(visible, path, layer.index, "deleted-later", waste)
        for entry in layer.entries:
            if entry.kind == "whiteout":
                target = visible.get(entry.path)
                if target is not None and target[0].kind != "dir":  # a file: no subtree scan
                    _hide(visible, entry.path, layer.index, "deleted-later", waste)
                    continue
                for path in [p for p in visible if p == entry.path or _under(p, entry.path)]:
                    _hide(visible, path, layer.index, "deleted-later", waste)
        for entry in layer.entries:
            if entry.kind in ("whiteout", "opaque"):
                continue
            if entry.path in visible:
                if entry.kind != "dir" and visible[entry.path][0].kind == "dir":
                    for path in [p for p in visible if _under(p, entry.path)]:
                        _hide(visible, path, layer.index, "deleted-later", waste)
                _hide(visible, entry.path, layer.index, "overwritten", waste, new=entry)
            visible[entry.path] = (entry, layer.index)
    return visible, waste
    # END SOLUTION


def summarise_layers(layers: tuple[Layer, ...] | list[Layer]) -> list[LayerSummary]:
    seen_files: set[str] = set()
    summaries = []
    for layer in layers:
        files = [e for e in layer.entries if e.kind not in ("dir", "whiteout", "opaque")]
        summaries.append(LayerSummary(
            index=layer.index, digest=layer.digest, created_by=layer.created_by,
            size=layer.size, files=len(files),
            whiteouts=sum(1 for e in layer.entries if e.kind == "whiteout"),
            opaque_dirs=tuple(e.path for e in layer.entries if e.kind == "opaque"),
            duplicates=sum(1 for e in files if e.path in seen_files)))
        seen_files.update(e.path for e in files if e.kind == "file")
    return summaries


def top_directories(files: dict[str, int], limit: int = 10) -> list[tuple[str, int]]:
    """Bytes per top-level directory of the final filesystem, largest first."""
    totals: dict[str, int] = defaultdict(int)
    for path, size in files.items():
        top = path.split("/", 1)[0] if "/" in path else "(root files)"
        totals["/" + top if top != "(root files)" else top] += size
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]


def analyse(image: Image) -> Analysis:
    """Everything `imgopt analyze` reports about one image."""
    visible, waste = replay(image.layers)
    final_files = {path: entry.size for path, (entry, _) in visible.items()
                   if entry.kind == "file"}
    for path, (entry, layer) in sorted(visible.items()):
        kind = cache_kind(path) if entry.kind == "file" and entry.size else None
        if kind:
            waste.append(WasteItem(path, entry.size, "cache", layer, None, kind))
    waste.sort(key=lambda item: (-item.size, item.path, item.layer))
    return Analysis(source=image.source, dive=dive_metrics(image.layers),
                    layers=summarise_layers(image.layers), waste=waste,
                    final_files=final_files, top_dirs=top_directories(final_files))
