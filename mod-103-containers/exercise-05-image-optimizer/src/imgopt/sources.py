"""Resolve what the user named into an image on disk: a docker-archive, an OCI layout
(`DIR` or `oci:DIR:TAG`), or a registry reference fetched with skopeo."""

from __future__ import annotations

import hashlib
from pathlib import Path

from imgopt.adapters import skopeo
from imgopt.adapters.archive import read_image
from imgopt.errors import InputNotFoundError
from imgopt.model import Image


def is_registry_ref(source: str) -> bool:
    if source.startswith("docker://"):
        return True
    if source.startswith(("oci:", "docker-archive:", "/", ".")) or Path(source).exists():
        return False
    first = source.split("/", 1)[0]
    return "/" in source and ("." in first or ":" in first or first == "localhost")


def load(source: str, work_dir: Path, insecure_hosts: list[str] | None = None) -> Image:
    if is_registry_ref(source):
        ref = source if source.startswith("docker://") else f"docker://{source}"
        host = ref.removeprefix("docker://").split("/", 1)[0]
        layout = work_dir / "pulled" / hashlib.sha256(ref.encode()).hexdigest()[:16]
        skopeo.copy_to_layout(ref, layout, insecure=host in (insecure_hosts or []))
        image = read_image(f"oci:{layout}:latest")
        return Image(source=source, layers=image.layers, config=image.config)
    if not Path(source.removeprefix("oci:").split(":", 1)[0]).exists() and not \
            source.startswith("docker-archive:"):
        raise InputNotFoundError(f"{source}: no such file, OCI layout or registry reference")
    return read_image(source)


def oci_layout_of(source: str, work_dir: Path) -> tuple[Path, str]:
    """An OCI layout (dir, tag) for umoci: as given, or converted/fetched with skopeo."""
    if source.startswith("oci:"):
        directory, _, tag = source[4:].partition(":")
        return Path(directory), tag or "latest"
    path = Path(source)
    if path.is_dir():
        return path, "latest"
    layout = work_dir / "layouts" / hashlib.sha256(source.encode()).hexdigest()[:16]
    if is_registry_ref(source):
        ref = source if source.startswith("docker://") else f"docker://{source}"
        skopeo.copy_to_layout(ref, layout)
    elif path.is_file():
        read_image(source)  # a clear "not an image" error before skopeo's
        skopeo.copy_to_layout(f"docker-archive:{path}", layout)
    else:
        raise InputNotFoundError(f"{source}: no such file, OCI layout or registry reference")
    return layout, "latest"
