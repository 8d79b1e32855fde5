"""Read images from disk: docker-archive tarballs, OCI image layouts and rootfs directories.

Every blob named by a manifest is checked before anything is scanned: a missing blob, a
digest that does not match (a truncated download), a layer media type we cannot read or a
broken tar is an `InvalidInputError` naming the file, so a scan never reports on half an image.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from pathlib import Path
from typing import IO, Any

from imgsec.errors import InvalidInputError, NotFoundError
from imgsec.layers import split_whiteout
from imgsec.model import CONTENT_LIMIT, FileEntry, History, Image, Layer

LAYER_MEDIA_TYPES = {
    "application/vnd.oci.image.layer.v1.tar": "tar",
    "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
    "application/vnd.docker.image.rootfs.diff.tar": "tar",
}
MANIFEST_TYPES = {"application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json"}
INDEX_TYPES = {"application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json"}


def _norm(path: str) -> str:
    """`./a/b/`, `/a/b` and `a/b` all name `a/b` (careful: `.wh.x` must keep its dot)."""
    while path.startswith("./") or path.startswith("/"):
        path = path[2:] if path.startswith("./") else path[1:]
    return "" if path == "." else path.rstrip("/")


def _is_text(data: bytes) -> bool:
    return b"\0" not in data[:8192]


def read_layer_tar(fileobj: IO[bytes], index: int, digest: str, where: str) -> Layer:
    """Index one layer tar: entries, whiteouts, opaque dirs and small text contents."""
    layer = Layer(index=index, digest=digest)
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
            for member in tar:
                path = _norm(member.name)
                if not path:
                    continue
                marker = split_whiteout(path)
                if marker and marker[0] == "opaque":
                    layer.opaque_dirs.add(marker[1])
                    continue
                if marker:
                    layer.whiteouts.add(marker[1])
                    continue
                kind = ("dir" if member.isdir() else "symlink" if member.issym()
                        else "hardlink" if member.islnk() else "file" if member.isfile()
                        else "other")
                layer.files[path] = FileEntry(path, kind, stat.S_IMODE(member.mode), member.size,
                                             member.uid, member.gid, member.linkname)
                if member.isfile() and member.size <= CONTENT_LIMIT:
                    handle = tar.extractfile(member)
                    data = handle.read() if handle else b""
                    if _is_text(data):
                        layer.contents[path] = data
    except (tarfile.TarError, EOFError, OSError, zlib_error()) as exc:
        raise InvalidInputError(f"{where}: layer {digest[:19]} is not a readable tar ({exc})") \
            from exc
    return layer


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


def _history(config: dict[str, Any]) -> list[History]:
    return [History(str(h.get("created_by", "")), bool(h.get("empty_layer", False)),
                    str(h.get("created", ""))) for h in config.get("history") or []]


def _attach_history(layers: list[Layer], history: list[History]) -> None:
    """Non-empty history entries map to layers in order (the OCI config contract)."""
    steps = [h for h in history if not h.empty_layer]
    for layer, step in zip(layers, steps, strict=False):
        layer.created_by = step.created_by


def _parse_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{where}: not valid JSON ({exc})") from exc


# ------------------------------------------------------------------ docker-archive


def load_docker_archive(path: Path, name: str | None = None) -> Image:
    """`docker save` / `skopeo copy docker-archive:` format: manifest.json, config, layer tars."""
    if not path.exists():
        raise NotFoundError(f"{path}: no such file")
    where = str(path)
    try:
        archive = tarfile.open(path)  # noqa: SIM115 -- closed by the `with` below
    except (tarfile.TarError, OSError, EOFError) as exc:
        reason = str(exc).splitlines()[0].rstrip(":")
        raise InvalidInputError(f"{where}: not a readable tar archive ({reason})") from exc
    with archive:
        try:
            members = {_norm(m.name): m for m in archive.getmembers()}
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise InvalidInputError(f"{where}: truncated or corrupt tar archive ({exc})") from exc

        def read(member_name: str) -> bytes:
            member = members.get(_norm(member_name))
            if member is None:
                raise InvalidInputError(f"{where}: manifest names missing file {member_name}")
            handle = archive.extractfile(member)
            if handle is None:
                raise InvalidInputError(f"{where}: {member_name} is not a regular file")
            try:
                return handle.read()
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise InvalidInputError(f"{where}: {member_name} is truncated ({exc})") from exc

        if "manifest.json" not in members:
            raise InvalidInputError(f"{where}: no manifest.json (not a docker-archive)")
        manifest = _parse_json(read("manifest.json"), f"{where}:manifest.json")
        if not isinstance(manifest, list) or not manifest:
            raise InvalidInputError(f"{where}: manifest.json lists no image")
        entry = manifest[0]
        config_bytes = read(entry["Config"])
        config = _parse_json(config_bytes, f"{where}:{entry['Config']}")
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        layers: list[Layer] = []
        for index, layer_name in enumerate(entry.get("Layers") or []):
            data = read(layer_name)
            digest = diff_ids[index] if index < len(diff_ids) else \
                "sha256:" + hashlib.sha256(data).hexdigest()
            raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
            if "sha256:" + hashlib.sha256(raw).hexdigest() != digest:
                raise InvalidInputError(f"{where}: layer {layer_name} does not match its "
                                        f"diff_id {digest[:19]} (truncated?)")
            layers.append(read_layer_tar(io.BytesIO(raw), index, digest, where))
    history = _history(config)
    _attach_history(layers, history)
    tags = entry.get("RepoTags") or []
    return Image(name=name or (tags[0] if tags else path.name),
                 image_id="sha256:" + hashlib.sha256(config_bytes).hexdigest(),
                 layers=layers, config=dict(config.get("config") or {}), history=history,
                 source="docker-archive")


# ------------------------------------------------------------------ OCI layout


def _blob(layout: Path, digest: str, expect_size: int | None = None) -> bytes:
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or not hexdigest:
        raise InvalidInputError(f"{layout}: unsupported digest {digest!r}")
    path = layout / "blobs" / "sha256" / hexdigest
    if not path.is_file():
        raise InvalidInputError(f"{layout}: manifest names missing blob {digest}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != hexdigest:
        raise InvalidInputError(f"{layout}: blob {digest} does not match its digest "
                                "(truncated or corrupt)")
    if expect_size is not None and len(data) != expect_size:
        raise InvalidInputError(f"{layout}: blob {digest} has {len(data)} bytes, manifest "
                                f"says {expect_size}")
    return data


def _pick_manifest(layout: Path, index: dict[str, Any], tag: str | None) -> dict[str, Any]:
    manifests = list(index.get("manifests") or [])
    if tag:
        manifests = [m for m in manifests
                     if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name")
                     == tag]
        if not manifests:
            raise NotFoundError(f"{layout}: no image tagged {tag!r} in index.json")
    if not manifests:
        raise InvalidInputError(f"{layout}: index.json lists no manifest")
    descriptor = dict(manifests[0])
    media = descriptor.get("mediaType", "")
    if media in INDEX_TYPES:
        nested = _parse_json(_blob(layout, descriptor["digest"]), f"{layout}:{media}")
        amd64 = [m for m in nested.get("manifests") or []
                 if (m.get("platform") or {}).get("architecture") in (None, "amd64")]
        return _pick_manifest(layout, {"manifests": amd64 or nested.get("manifests")}, None)
    if media not in MANIFEST_TYPES:
        raise InvalidInputError(f"{layout}: unknown manifest media type {media!r}")
    return descriptor


def load_oci_layout(layout: Path, tag: str | None = None, name: str | None = None,
                    source: str = "oci-layout") -> Image:
    """An OCI image layout directory (index.json + blobs/sha256/...)."""
    if not (layout / "index.json").is_file():
        if not layout.exists():
            raise NotFoundError(f"{layout}: no such directory")
        raise InvalidInputError(f"{layout}: no index.json (not an OCI layout)")
    index = _parse_json((layout / "index.json").read_bytes(), f"{layout}/index.json")
    descriptor = _pick_manifest(layout, index, tag)
    manifest_bytes = _blob(layout, descriptor["digest"])
    manifest = _parse_json(manifest_bytes, f"{layout}:{descriptor['digest']}")
    config_desc = manifest.get("config") or {}
    config_bytes = _blob(layout, config_desc.get("digest", ""), config_desc.get("size"))
    config = _parse_json(config_bytes, f"{layout}:config")
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    layers: list[Layer] = []
    for position, desc in enumerate(manifest.get("layers") or []):
        media = desc.get("mediaType", "")
        if media not in LAYER_MEDIA_TYPES:
            raise InvalidInputError(f"{layout}: layer {desc.get('digest', '?')[:19]} has "
                                    f"unknown media type {media!r}")
        data = _blob(layout, desc["digest"], desc.get("size"))
        raw = gzip.decompress(data) if LAYER_MEDIA_TYPES[media] == "gzip" else data
        digest = diff_ids[position] if position < len(diff_ids) else desc["digest"]
        layers.append(read_layer_tar(io.BytesIO(raw), position, digest, str(layout)))
    history = _history(config)
    _attach_history(layers, history)
    ref_name = (descriptor.get("annotations") or {}).get("org.opencontainers.image.ref.name")
    return Image(name=name or f"{layout.name}:{ref_name or 'latest'}",
                 image_id="sha256:" + hashlib.sha256(config_bytes).hexdigest(),
                 manifest_digest=descriptor["digest"], layers=layers,
                 config=dict(config.get("config") or {}), history=history, source=source)


# ------------------------------------------------------------------ rootfs directory


def load_rootfs(root: Path) -> Image:
    """An unpacked filesystem: one layer, no config or history."""
    if not root.is_dir():
        raise NotFoundError(f"{root}: no such directory")
    layer = Layer(index=0, digest="rootfs:" + str(root))
    for dirpath, dirnames, filenames in os.walk(root):
        for item in [*dirnames, *filenames]:
            full = Path(dirpath) / item
            rel = full.relative_to(root).as_posix()
            info = full.lstat()
            kind = ("symlink" if stat.S_ISLNK(info.st_mode) else "dir"
                    if stat.S_ISDIR(info.st_mode) else "file" if stat.S_ISREG(info.st_mode)
                    else "other")
            layer.files[rel] = FileEntry(rel, kind, stat.S_IMODE(info.st_mode), info.st_size,
                                         info.st_uid, info.st_gid)
            if kind == "file" and info.st_size <= CONTENT_LIMIT:
                data = full.read_bytes()
                if _is_text(data):
                    layer.contents[rel] = data
    return Image(name=str(root), image_id="", layers=[layer], source="rootfs")


def load_path(path: Path, tag: str | None = None) -> Image:
    """Pick the loader from what is on disk: a directory with index.json, another directory,
    or a tarball."""
    if path.is_dir():
        return load_oci_layout(path, tag) if (path / "index.json").exists() else load_rootfs(path)
    return load_docker_archive(path)
