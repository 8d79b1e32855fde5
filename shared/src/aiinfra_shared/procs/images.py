"""Build OCI images without a container engine: buildah in chroot isolation on vfs storage.

No Docker daemon runs on these machines and no base image can be pulled, so images are
built `FROM scratch`. RUN steps get a shell from the static busybox of Debian's
`busybox-static` package, copied into the build context as `busybox`; a Containerfile
installs it with:

    FROM scratch
    COPY busybox /bin/busybox
    RUN ["/bin/busybox", "--install", "-s", "/bin"]
    RUN echo now /bin/sh works > /note

`buildah bud --layers` keeps one layer per instruction (without it buildah squashes the build
into a single layer). Each builder owns a private storage root, run root, storage.conf and
signature policy under its work dir, so nothing on the host (or a laptop's own podman
storage) is read or changed. Results are cached by content: the same Containerfile, context
and build args give the same `BuiltImage` without a second build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tarfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiinfra_shared.procs.binaries import MissingBinaryError, require_binary

BUSYBOX_ENV = "AIINFRA_BUSYBOX"
BUILDAH_HINT = "apt-get install buildah (make setup)"
BUSYBOX_HINT = "apt-get install busybox-static (make setup)"
DEFAULT_TIMEOUT = 300.0

# A context file: its bytes, its text, or a file on disk to copy.
ContextFile = bytes | str | Path


class ImageBuildError(RuntimeError):
    """buildah failed; the message ends with the tail of its output."""


@dataclass(frozen=True)
class BuiltImage:
    """One built image, exported as a docker-archive tarball and an OCI image layout."""

    reference: str  # name:tag in the builder's own storage, e.g. localhost/aiinfra/app:v1
    image_id: str
    docker_archive: Path
    oci_layout: Path  # a directory with index.json, oci-layout and blobs/
    oci_tag: str  # the ref name inside the layout (`oci:<layout>:<tag>`)
    key: str  # content hash the cache uses
    pushed: dict[str, str] = field(default_factory=dict, compare=False)  # ref -> digest

    @property
    def oci_reference(self) -> str:
        """`oci:<dir>:<tag>`, as skopeo, umoci and syft take it."""
        return f"oci:{self.oci_layout}:{self.oci_tag}"

    @property
    def docker_archive_reference(self) -> str:
        return f"docker-archive:{self.docker_archive}"

    def archive_manifest(self) -> dict[str, Any]:
        """The docker-archive's manifest.json entry (Config, RepoTags, Layers)."""
        with tarfile.open(self.docker_archive) as archive:
            member = archive.extractfile("manifest.json")
            if member is None:
                raise ImageBuildError(f"{self.docker_archive} has no manifest.json")
            entries = json.loads(member.read())
        return dict(entries[0])

    @property
    def layer_count(self) -> int:
        return len(self.archive_manifest()["Layers"])


def find_static_busybox() -> Path:
    """A statically linked busybox (`$AIINFRA_BUSYBOX`, else PATH): RUN steps in a FROM-scratch
    image have no dynamic loader, so the dynamically linked `busybox` package will not do."""
    override = os.environ.get(BUSYBOX_ENV)
    path = Path(override) if override else Path(require_binary("busybox", BUSYBOX_HINT))
    if not path.is_file():
        raise MissingBinaryError("busybox", f"${BUSYBOX_ENV}={override} is not a file")
    if not is_static_elf(path.resolve()):
        raise MissingBinaryError("busybox (static)", f"{path} is dynamically linked; "
                                 + BUSYBOX_HINT)
    return path


def is_static_elf(path: Path) -> bool:
    """True for an ELF executable with no PT_INTERP program header (no dynamic loader)."""
    data = path.read_bytes()[:1 << 16]
    if data[:4] != b"\x7fELF":
        return False
    wide, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if wide:
        (phoff,) = struct.unpack_from(order + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 54)
    else:
        (phoff,) = struct.unpack_from(order + "I", data, 28)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 42)
    for index in range(phnum):
        offset = phoff + index * phentsize
        if offset + 4 > len(data):
            break
        (p_type,) = struct.unpack_from(order + "I", data, offset)
        if p_type == 3:  # PT_INTERP
            return False
    return True


def _read(value: ContextFile) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, Path):
        return value.read_bytes()
    return value.encode()


def _context_files(context: Path | Mapping[str, ContextFile] | None) -> dict[str, bytes]:
    if context is None:
        return {}
    if isinstance(context, Path):
        return {
            str(path.relative_to(context)): path.read_bytes()
            for path in sorted(context.rglob("*")) if path.is_file()
        }
    return {name: _read(value) for name, value in context.items()}


# buildah re-executes itself from a sealed memfd copy of its binary before a RUN step (the
# containers/storage `unshare` reexec). Sealing that copy with F_SEAL_WRITE fails with EBUSY
# while the kernel still holds transient references to its freshly written pages (per-CPU
# LRU batches on a loaded machine); nothing about the build is wrong and a rerun succeeds.
# Seen in a fresh-clone CI run of 2026-12-01, at `RUN chmod` in 103-05's waste image.
TRANSIENT_REEXEC_ERRORS = ("sealing memfd copy: Device or resource busy",)
REEXEC_ATTEMPTS = 3
REEXEC_BACKOFF_S = 0.5


def is_transient_reexec_failure(output: str) -> bool:
    """True when buildah's output shows it failed to re-execute itself, not to build."""
    return any(marker in output for marker in TRANSIENT_REEXEC_ERRORS)


class ImageBuilder:
    """Builds Containerfiles with buildah into private storage under `work_dir`.

    `build()` returns a cached `BuiltImage` when the same inputs were built before by this
    builder; `builds` counts real buildah runs (tests assert on it) and `reexec_retries` the
    runs repeated after a transient re-exec failure.
    """

    def __init__(self, work_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.buildah = require_binary("buildah", BUILDAH_HINT)
        self.work_dir = Path(work_dir).resolve()  # buildah fails silently on relative roots
        self.timeout = timeout
        self.root = self.work_dir / "storage"
        self.runroot = self.work_dir / "run"
        self.output_dir = self.work_dir / "images"
        for directory in (self.root, self.runroot, self.output_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.policy = self.work_dir / "policy.json"
        self.policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
        self.storage_conf = self.work_dir / "storage.conf"
        self.storage_conf.write_text(
            f'[storage]\ndriver = "vfs"\nrunroot = "{self.runroot}"\n'
            f'graphroot = "{self.root}"\n'
        )
        self.builds = 0
        self.reexec_retries = 0
        self._cache: dict[str, BuiltImage] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- running buildah

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"CONTAINERS_STORAGE_CONF": str(self.storage_conf),
                    "BUILDAH_ISOLATION": "chroot", "BUILDAH_LAYERS": "true"})
        return env

    def buildah_cmd(self, *args: str, timeout: float | None = None) -> str:
        """Run `buildah --root ... ARGS` on this builder's storage; return stdout.

        A run that failed only because buildah could not re-execute itself (see
        `is_transient_reexec_failure`) is run again, up to `REEXEC_ATTEMPTS` times; with
        `--layers` the steps that already finished come from the layer cache.
        """
        command = [self.buildah, "--root", str(self.root), "--runroot", str(self.runroot),
                   "--storage-driver", "vfs", *args]
        for attempt in range(1, REEXEC_ATTEMPTS + 1):
            try:
                result = subprocess.run(command, capture_output=True, text=True, check=False,
                                        env=self._env(), timeout=timeout or self.timeout,
                                        stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as exc:
                raise ImageBuildError(f"buildah {args[0]} ran past {exc.timeout:.0f}s") from exc
            if result.returncode == 0:
                return result.stdout
            output = result.stdout + result.stderr
            if attempt < REEXEC_ATTEMPTS and is_transient_reexec_failure(output):
                self.reexec_retries += 1
                time.sleep(REEXEC_BACKOFF_S * attempt)
                continue
            tail = "\n".join(output.strip().splitlines()[-30:])
            raise ImageBuildError(f"buildah {' '.join(args[:1])} failed "
                                  f"(exit {result.returncode}):\n{tail}")
        raise AssertionError("unreachable: the last attempt returns or raises")

    # ---------------------------------------------------------------- building

    @staticmethod
    def cache_key(containerfile: str, files: Mapping[str, bytes],
                  build_args: Mapping[str, str], reference: str | None, busybox: bool) -> str:
        digest = hashlib.sha256()
        for part in (containerfile, reference or "", "busybox" if busybox else ""):
            digest.update(part.encode() + b"\0")
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
        for name in sorted(build_args):
            digest.update(f"{name}={build_args[name]}".encode() + b"\0")
        return digest.hexdigest()

    def build(
        self,
        containerfile: str | Path,
        context: Path | Mapping[str, ContextFile] | None = None,
        *,
        reference: str | None = None,
        build_args: Mapping[str, str] | None = None,
        busybox: bool = True,
        extra_args: Sequence[str] = (),
    ) -> BuiltImage:
        """Build `containerfile` (its text, or a path) with `context` (a directory or a
        {name: content} mapping); with `busybox`, the static busybox is added as `busybox`.

        `reference` defaults to `localhost/aiinfra/<hash>:latest`.
        """
        text = containerfile.read_text() if isinstance(containerfile, Path) else containerfile
        files = _context_files(context)
        args = dict(build_args or {})
        key = self.cache_key(text, files, args, reference, busybox)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            image = self._build(key, text, files, args, reference, busybox, extra_args)
            self._cache[key] = image
            return image

    def _build(self, key: str, text: str, files: Mapping[str, bytes],
               build_args: Mapping[str, str], reference: str | None, busybox: bool,
               extra_args: Sequence[str]) -> BuiltImage:
        short = key[:12]
        reference = reference or f"localhost/aiinfra/{short}:latest"
        build_dir = self.output_dir / short
        shutil.rmtree(build_dir, ignore_errors=True)
        context_dir = build_dir / "context"
        context_dir.mkdir(parents=True)
        for name, content in files.items():
            target = context_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if busybox:
            shutil.copy2(find_static_busybox(), context_dir / "busybox")
            (context_dir / "busybox").chmod(0o755)
        containerfile = build_dir / "Containerfile"
        containerfile.write_text(text)
        iidfile = build_dir / "image-id"
        command = ["bud", "--isolation", "chroot", "--layers", "--signature-policy",
                   str(self.policy), "--iidfile", str(iidfile), "-f", str(containerfile),
                   "-t", reference]
        for name, value in build_args.items():
            command += ["--build-arg", f"{name}={value}"]
        self.buildah_cmd(*command, *extra_args, str(context_dir))
        self.builds += 1
        image_id = iidfile.read_text().strip().removeprefix("sha256:")

        archive = build_dir / "image.tar"
        layout = build_dir / "oci"
        tag = reference.rsplit(":", 1)[-1] if ":" in reference.rsplit("/", 1)[-1] else "latest"
        self.buildah_cmd("push", "--signature-policy", str(self.policy), reference,
                         f"docker-archive:{archive}:{reference}")
        self.buildah_cmd("push", "--signature-policy", str(self.policy), reference,
                         f"oci:{layout}:{tag}")
        return BuiltImage(reference=reference, image_id=image_id, docker_archive=archive,
                          oci_layout=layout, oci_tag=tag, key=key)

    # ---------------------------------------------------------------- registries

    def push(self, image: BuiltImage, registry_host: str, repository: str,
             tag: str | None = None, tls_verify: bool = False) -> str:
        """Push to `registry_host/repository:tag` (plain HTTP by default); returns the ref.

        The pushed manifest digest is kept in `image.pushed[ref]`.
        """
        ref = f"{registry_host}/{repository}:{tag or image.oci_tag}"
        digest_file = self.output_dir / f"{image.key[:12]}.{len(image.pushed)}.digest"
        self.buildah_cmd("push", "--signature-policy", str(self.policy),
                         f"--tls-verify={'true' if tls_verify else 'false'}",
                         "--digestfile", str(digest_file), image.reference, f"docker://{ref}")
        image.pushed[ref] = digest_file.read_text().strip()
        return ref

    def cleanup(self) -> None:
        """Remove the private storage and exported images."""
        with contextlib.suppress(ImageBuildError):
            self.buildah_cmd("rm", "--all", timeout=60)
        shutil.rmtree(self.work_dir, ignore_errors=True)


__all__ = [
    "BUSYBOX_ENV",
    "BuiltImage",
    "ImageBuildError",
    "ImageBuilder",
    "find_static_busybox",
    "is_static_elf",
]
