"""Read docker-archive tarballs and OCI image layouts into `imgopt.model.Image`.

Both formats are read with `tarfile` only (gzip layers included); no daemon, no extraction
to disk. Each regular file's content is hashed so a chmod/chown re-copy is recognisable.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from pathlib import Path
from typing import IO, Any

from imgopt.errors import InputNotFoundError, NotAnImageError
from imgopt.model import Entry, EntryKind, Image, Layer, normalise

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


def _kind(member: tarfile.TarInfo) -> EntryKind:
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.isreg():
        return "file"
    return "other"


def read_layer_tar(stream: IO[bytes], index: int, digest: str, created_by: str) -> Layer:
    """Entries of one layer tar (plain or gzip), whiteouts decoded."""
    entries: list[Entry] = []
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as layer_tar:
            for member in layer_tar:
                path = normalise(member.name)
                if not path:
                    continue
                name = path.rsplit("/", 1)[-1]
                parent = path.rsplit("/", 1)[0] if "/" in path else ""
                if name == OPAQUE:
                    entries.append(Entry(parent, "opaque"))
                    continue
                if name.startswith(WHITEOUT):
                    target = (parent + "/" if parent else "") + name[len(WHITEOUT):]
                    entries.append(Entry(target, "whiteout", size=member.size))
                    continue
                digest_hex = ""
                if member.isreg():
                    handle = layer_tar.extractfile(member)
                    hasher = hashlib.sha256()
                    while handle is not None and (block := handle.read(1 << 20)):
                        hasher.update(block)
                    digest_hex = hasher.hexdigest()
                entries.append(Entry(path, _kind(member), size=member.size,
                                     mode=member.mode & 0o7777, uid=member.uid,
                                     gid=member.gid, link=member.linkname,
                                     digest=digest_hex))
    except tarfile.TarError as exc:
        raise NotAnImageError(f"layer {index} is not a readable tar: {exc}") from exc
    return Layer(index=index, digest=digest, created_by=created_by, entries=tuple(entries))


def layer_history(config: dict[str, Any], count: int) -> list[str]:
    """`created_by` for each layer: history entries marked `empty_layer` make no layer."""
    lines = [str(item.get("created_by", "")) for item in config.get("history", [])
             if not item.get("empty_layer")]
    return (lines + [""] * count)[:count]


def _member_bytes(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        handle = archive.extractfile(name)
    except KeyError as exc:
        raise NotAnImageError(f"docker-archive lacks {name}") from exc
    if handle is None:
        raise NotAnImageError(f"docker-archive member {name} is not a file")
    return handle.read()


def read_docker_archive(path: Path) -> Image:
    """A `docker save` / `buildah push docker-archive:` tarball."""
    try:
        archive = tarfile.open(path)  # noqa: SIM115 (closed by the `with` below)
    except (tarfile.TarError, OSError) as exc:
        raise NotAnImageError(f"{path}: not an image (not a tar archive)") from exc
    with archive:
        names = set(archive.getnames())
        if "manifest.json" not in names:
            raise NotAnImageError(f"{path}: not an image (no manifest.json: expected a "
                                  "docker-archive or an OCI layout)")
        try:
            manifest = json.loads(_member_bytes(archive, "manifest.json"))[0]
            config = json.loads(_member_bytes(archive, manifest["Config"]))
            layer_names = list(manifest["Layers"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise NotAnImageError(f"{path}: not an image (malformed manifest.json)") from exc
        diff_ids = list(config.get("rootfs", {}).get("diff_ids", []))
        history = layer_history(config, len(layer_names))
        layers = []
        for index, name in enumerate(layer_names):
            handle = archive.extractfile(name)
            if handle is None:
                raise NotAnImageError(f"{path}: layer {name} missing")
            digest = diff_ids[index] if index < len(diff_ids) else name
            layers.append(read_layer_tar(handle, index, digest, history[index]))
    return Image(source=str(path), layers=tuple(layers), config=config)


def _blob(layout: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    blob = layout / "blobs" / algorithm / hexdigest
    if not blob.is_file():
        raise NotAnImageError(f"{layout}: blob {digest} missing from the OCI layout")
    return blob


def _json_blob(layout: Path, digest: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(_blob(layout, digest).read_bytes())
    except ValueError as exc:
        raise NotAnImageError(f"{layout}: blob {digest} is not JSON") from exc
    return data


def read_oci_layout(layout: Path, tag: str | None = None) -> Image:
    """An OCI image layout directory (index.json); `tag` picks a ref name when several."""
    try:
        index = json.loads((layout / "index.json").read_text())
    except (OSError, ValueError) as exc:
        raise NotAnImageError(f"{layout}: not an OCI layout (no readable index.json)") from exc
    manifests = index.get("manifests", [])
    if tag is not None:
        manifests = [m for m in manifests
                     if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if not manifests:
        raise NotAnImageError(f"{layout}: no image{f' tagged {tag}' if tag else ''} in index.json")
    descriptor = manifests[0]
    manifest = _json_blob(layout, descriptor["digest"])
    while "manifests" in manifest:  # an image index: take the first (linux/amd64 here) image
        manifest = _json_blob(layout, manifest["manifests"][0]["digest"])
    config = _json_blob(layout, manifest["config"]["digest"])
    diff_ids = list(config.get("rootfs", {}).get("diff_ids", []))
    history = layer_history(config, len(manifest.get("layers", [])))
    layers = []
    for position, layer in enumerate(manifest.get("layers", [])):
        media = str(layer.get("mediaType", ""))
        if "zstd" in media:
            raise NotAnImageError(f"{layout}: zstd layers are not supported ({layer['digest']})")
        blob = _blob(layout, layer["digest"])
        with blob.open("rb") as raw:
            stream: IO[bytes] = (gzip.GzipFile(fileobj=raw) if "gzip" in media  # type: ignore[assignment]
                                 else raw)
            digest = diff_ids[position] if position < len(diff_ids) else layer["digest"]
            layers.append(read_layer_tar(stream, position, digest, history[position]))
    return Image(source=str(layout), layers=tuple(layers), config=config)


def read_image(source: str) -> Image:
    """Dispatch on what `source` is on disk: `oci:DIR[:TAG]`, a layout dir, or a tarball."""
    tag = None
    if source.startswith("oci:"):
        rest = source[4:]
        directory, _, tag_part = rest.partition(":")
        path, tag = Path(directory), (tag_part or None)
    elif source.startswith("docker-archive:"):
        path = Path(source.split(":", 2)[1])
    else:
        path = Path(source)
    if not path.exists():
        raise InputNotFoundError(f"{path}: no such file or directory")
    if path.is_dir():
        return read_oci_layout(path, tag)
    return read_docker_archive(path)
