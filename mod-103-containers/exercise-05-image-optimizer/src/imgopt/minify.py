"""Daemonless minification, slim-style: watch what the app touches, keep only that.

1. umoci unpacks the image; every probe (the image's CMD first, then `--probe` commands)
   runs chrooted under `strace -f -e trace=%file`; all must pass on the original.
2. Paths named after the `chroot()` call (the host side before it does not count) that exist
   in the rootfs are kept, with the targets of symlinks and every parent directory, plus the
   `--keep` paths.
3. The kept files go into a tarball (modes, owners, links preserved) and are rebuilt
   `FROM scratch` (`ADD rootfs.tar /` with the original CMD/ENTRYPOINT/ENV/WORKDIR).
4. The probes run again on the new image, each with a hard timeout.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imgopt.adapters import buildah, rootfs
from imgopt.adapters.archive import read_image
from imgopt.compare import default_smoke
from imgopt.errors import ProbeError

_CHROOT = re.compile(r'\bchroot\("[^"]*"\)\s*=\s*0')
_CHDIR = re.compile(r'\bchdir\("([^"]*)"\)\s*=\s*0')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
PSEUDO = ("proc", "sys", "dev")  # mount points: kept as empty dirs, contents never copied
SCRATCH_DIRS = ("proc", "sys", "dev", "tmp", "run")


@dataclass
class MinifyResult:
    original_bytes: int
    minified_bytes: int
    kept_files: int
    removed_files: int
    probes: list[dict[str, Any]] = field(default_factory=list)
    docker_archive: str = ""
    oci_layout: str = ""

    @property
    def saved_bytes(self) -> int:
        return self.original_bytes - self.minified_bytes


def touched_paths(trace: str) -> set[str]:
    """Absolute paths a traced command named after it chrooted (pure; strace -f output)."""
    # BEGIN SOLUTION: skip lines until chroot()=0; collect quoted path args, resolve vs cwd
    seen: set[str] = set()
    inside, cwd = False, "/"
    for line in trace.splitlines():
        if not inside:
            inside = bool(_CHROOT.search(line))
            continue
        chdir = _CHDIR.search(line)
        if chdir:
            cwd = posixpath.normpath(posixpath.join(cwd, chdir.group(1)))
        for value in _QUOTED.findall(line):
            if not value or "\\" in value or "\n" in value or len(value) > 4096:
                continue
            seen.add(posixpath.normpath(posixpath.join(cwd, value)))
    return seen
    # END SOLUTION


def closure(root: Path, paths: set[str], keep: list[str]) -> set[str]:
    """Paths (relative, normalised) to keep: what exists, symlink targets, parents, keeps."""
    # BEGIN SOLUTION: resolve symlinks inside the rootfs, add parents and kept subtrees
    result: set[str] = set()
    pending = [p.lstrip("/") for p in paths]
    result.update(d for d in SCRATCH_DIRS if (root / d).is_dir() and not (root / d).is_symlink())
    for item in keep:
        base = root / item.lstrip("/")
        pending.append(item.lstrip("/"))
        if base.is_dir() and not base.is_symlink():
            pending += [str(p.relative_to(root)) for p in base.rglob("*")]
    while pending:
        rel = posixpath.normpath(pending.pop()).lstrip("/")
        if rel in ("", ".") or rel in result or (
                "/" in rel and rel.split("/", 1)[0] in PSEUDO):
            continue
        full = root / rel
        if not (full.exists() or full.is_symlink()):
            continue
        result.add(rel)
        parts = rel.split("/")
        pending += ["/".join(parts[:i]) for i in range(1, len(parts))]
        if full.is_symlink():
            link = str(full.readlink())
            anchor = "/" if link.startswith("/") else "/" + posixpath.dirname(rel)
            pending.append(posixpath.join(anchor, link))
    return result
    # END SOLUTION


def rootfs_tar(root: Path, keep: set[str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for rel in sorted(keep):
            archive.add(root / rel, arcname=rel, recursive=False)
    return buffer.getvalue()


def _containerfile(config: dict[str, Any]) -> str:
    inner = config.get("config", {}) if isinstance(config.get("config"), dict) else {}
    lines = ["FROM scratch", "ADD rootfs.tar /"]
    for item in inner.get("Env") or []:
        key, _, value = str(item).partition("=")
        if key != "PATH" or value:
            lines.append(f"ENV {key}={json.dumps(value)}")
    if inner.get("WorkingDir"):
        lines.append(f"WORKDIR {inner['WorkingDir']}")
    if inner.get("Entrypoint"):
        lines.append(f"ENTRYPOINT {json.dumps(inner['Entrypoint'])}")
    if inner.get("Cmd"):
        lines.append(f"CMD {json.dumps(inner['Cmd'])}")
    return "\n".join(lines) + "\n"


def _probe_argvs(config: dict[str, Any], probes: list[str], include_cmd: bool) -> list[list[str]]:
    argvs = [default_smoke(config)] if include_cmd and default_smoke(config) else []
    argvs += [["/bin/sh", "-c", probe] for probe in probes]
    if not argvs:
        raise ProbeError("nothing to probe: the image has no CMD and no --probe was given")
    return argvs


def minify(oci_layout: Path, tag: str, work: Path, probes: list[str], keep: list[str],
           include_cmd: bool = True, timeout: float = 30.0) -> MinifyResult:
    image = read_image(f"oci:{oci_layout}:{tag}")
    argvs = _probe_argvs(image.config, probes, include_cmd)
    shutil.rmtree(work / "original", ignore_errors=True)
    root = rootfs.unpack(oci_layout, tag, work / "original")
    touched: set[str] = set()
    for number, argv in enumerate(argvs):
        trace = work / f"trace-{number}.txt"
        result = rootfs.run_in(root, argv, timeout, trace_file=trace)
        if not result.ok:
            why = "timed out" if result.timed_out else f"exit {result.returncode}"
            raise ProbeError(f"probe `{' '.join(argv)}` fails on the original image ({why}: "
                             f"{result.output.strip()[-160:]}); minify refuses")
        touched |= touched_paths(trace.read_text(errors="replace"))
    kept = closure(root, touched, keep)
    every = {str(p.relative_to(root)) for p in root.rglob("*")}
    builder = buildah.new_builder(work / "storage")
    built = buildah.build(builder, _containerfile(image.config),
                          _context_dir(work / "context", rootfs_tar(root, kept)), busybox=False)
    shutil.rmtree(work / "minified", ignore_errors=True)
    new_root = rootfs.unpack(built.image.oci_layout, built.image.oci_tag, work / "minified")
    outcome = MinifyResult(original_bytes=image.size,
                           minified_bytes=read_image(str(built.image.docker_archive)).size,
                           kept_files=len(kept), removed_files=len(every - kept),
                           docker_archive=str(built.image.docker_archive),
                           oci_layout=str(built.image.oci_layout))
    for argv in argvs:
        after = rootfs.run_in(new_root, argv, timeout)
        outcome.probes.append({"command": " ".join(argv), "ok": after.ok,
                               "output": after.output.strip()[-300:]})
    return outcome


def _context_dir(directory: Path, tar_bytes: bytes) -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    (directory / "rootfs.tar").write_bytes(tar_bytes)
    return directory
