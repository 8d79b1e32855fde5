"""Turn the IMAGE argument into a loaded `Image`, whatever it names.

    docker-archive:PATH | oci:DIR[:TAG] | dir:PATH | docker://HOST/REPO:TAG | HOST/REPO:TAG
    | a path (tarball -> docker-archive, dir with index.json -> OCI layout, else rootfs)

A registry image is copied with skopeo into a temporary OCI layout, then read like any layout.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from imgsec.adapters.imagefiles import (
    load_docker_archive,
    load_oci_layout,
    load_path,
    load_rootfs,
)
from imgsec.adapters.skopeo import Skopeo, split_ref
from imgsec.errors import InvalidInputError
from imgsec.model import Image


def is_registry_ref(text: str) -> bool:
    if text.startswith("docker://"):
        return True
    if Path(text).exists() or text.startswith(("/", ".", "oci:", "docker-archive:", "dir:")):
        return False
    try:
        split_ref(text)
    except ValueError:
        return False
    return True


def load_image(spec: str, authfile: Path | None = None,
               insecure_hosts: Sequence[str] = ()) -> Image:
    if spec.startswith("docker-archive:"):
        return load_docker_archive(Path(spec.removeprefix("docker-archive:")))
    if spec.startswith("oci:"):
        rest = spec.removeprefix("oci:")
        directory, _, tag = rest.partition(":") if not Path(rest).exists() else (rest, "", "")
        return load_oci_layout(Path(directory), tag or None)
    if spec.startswith("dir:"):
        return load_rootfs(Path(spec.removeprefix("dir:")))
    if is_registry_ref(spec):
        ref = spec.removeprefix("docker://")
        skopeo = Skopeo(authfile=authfile, insecure_hosts=insecure_hosts)
        with tempfile.TemporaryDirectory(prefix="imgsec-pull-") as tmp:
            layout = Path(tmp) / "layout"
            digest = skopeo.copy_to_layout(ref, layout)
            image = load_oci_layout(layout, "scan", name=ref, source="registry")
        if digest:
            image.manifest_digest = digest
        return image
    path = Path(spec)
    if not path.exists() and ":" in spec and not spec.startswith("/"):
        raise InvalidInputError(f"{spec!r}: neither a file nor a registry reference")
    return load_path(path)
