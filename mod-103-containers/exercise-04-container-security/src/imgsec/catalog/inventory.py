"""Inventory of an image: what is installed, which layer added it, what was removed above.

Catalogers run twice: over each layer's own files (which packages each layer carried) and
over the flattened view (what a container sees). A package in some layer but not in the
flattened view is *shadowed*: removed by an upper layer, yet its files still ship in the
lower layer's blob, which Trivy does not report (trivy#3924).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from imgsec.catalog.catalogers import catalog_files, parse_os_release, wanted
from imgsec.catalog.package import Distro, Package
from imgsec.layers import FlatView, file_content
from imgsec.model import Image, Layer


@dataclass
class Inventory:
    packages: list[Package]  # installed (visible) packages first, then shadowed ones
    distro: Distro

    @property
    def installed(self) -> list[Package]:
        return [p for p in self.packages if not p.shadowed]

    @property
    def shadowed(self) -> list[Package]:
        return [p for p in self.packages if p.shadowed]


def _touches(layer: Layer, path: str) -> bool:
    """Did this layer rewrite or delete `path` (itself, or a directory above it)?"""
    return path in layer.files or any(
        path == gone or path.startswith(gone + "/")
        for gone in (*layer.whiteouts, *layer.opaque_dirs))


def detect_distro(image: Image, view: FlatView) -> Distro:
    os_release = file_content(image.layers, view, "etc/os-release") or \
        file_content(image.layers, view, "usr/lib/os-release") or b""
    values = parse_os_release(os_release.decode("utf-8", "replace"))
    alpine = (file_content(image.layers, view, "etc/alpine-release") or b"").decode().strip()
    return Distro(id=values.get("ID", ""), version_id=values.get("VERSION_ID", ""),
                  alpine_release=alpine)


def build_inventory(image: Image, view: FlatView) -> Inventory:
    distro = detect_distro(image, view)
    # BEGIN SOLUTION: catalog each layer and the flat view; earliest layer wins; rest shadowed
    first_seen: dict[tuple[str, str, str], Package] = {}
    last_seen_layer: dict[tuple[str, str, str], int] = {}
    for layer in image.layers:
        files = {p: b for p, b in layer.contents.items() if wanted(p)}
        for package in catalog_files(files, distro):
            if package.key not in first_seen:
                first_seen[package.key] = package.located(layer.index, layer.digest)
            last_seen_layer[package.key] = layer.index
    visible_files = {p: data for p in view.files if wanted(p)
                     if (data := file_content(image.layers, view, p)) is not None}
    visible = {p.key for p in catalog_files(visible_files, distro)}
    installed = [pkg for key, pkg in first_seen.items() if key in visible]
    shadowed = []
    for key, pkg in first_seen.items():
        if key in visible:
            continue
        removed_in = next((layer.index for layer in image.layers
                           if layer.index > last_seen_layer[key] and _touches(layer, pkg.path)),
                          None)
        shadowed.append(replace(pkg, shadowed=True, removed_in=removed_in))
    # END SOLUTION
    order = {"deb": 0, "apk": 1, "pypi": 2, "npm": 3}
    installed.sort(key=lambda p: (order.get(p.type, 9), p.name, p.version))
    shadowed.sort(key=lambda p: (order.get(p.type, 9), p.name, p.version))
    return Inventory(packages=installed + shadowed, distro=distro)
