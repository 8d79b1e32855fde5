"""`imgopt compare A B`: build two Dockerfiles for real and measure what changed.

For each side: a cold build in its own empty buildah storage, the layer analysis, a smoke
command chrooted in the umoci-unpacked rootfs, then a rebuild after a source-only change
(one text file of the context gets a trailing newline) in the same, now warm, storage.
An optimisation that breaks the image fails the comparison.
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgopt.adapters import buildah, rootfs
from imgopt.adapters.archive import read_image
from imgopt.errors import InputNotFoundError, ProbeError
from imgopt.layers import analyse
from imgopt.rules import MANIFESTS


@dataclass(frozen=True)
class Side:
    dockerfile: str
    size_bytes: int
    layers: int
    efficiency: float
    reclaimable_bytes: int
    cold_seconds: float
    rebuild_seconds: float
    smoke_ok: bool
    smoke_output: str
    oci_layout: str


def ratios(before: Side, after: Side) -> dict[str, float]:
    """after/before for size, layers, cold build and warm rebuild (lower is better)."""
    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0
    return {"size": ratio(after.size_bytes, before.size_bytes),
            "layers": ratio(after.layers, before.layers),
            "cold_build": ratio(after.cold_seconds, before.cold_seconds),
            "rebuild": ratio(after.rebuild_seconds, before.rebuild_seconds)}


def pick_source_file(context: Path) -> Path:
    """The newest text file that is neither a Dockerfile nor a dependency manifest."""
    candidates = []
    for path in context.rglob("*"):
        if not path.is_file() or path.name in MANIFESTS or path.name.startswith(
                ("Dockerfile", "Containerfile", ".dockerignore")) or path.name == "busybox":
            continue
        try:
            path.read_bytes()[:4096].decode()
        except UnicodeDecodeError:
            continue
        candidates.append(path)
    if not candidates:
        raise InputNotFoundError(f"{context}: no text source file to change for the rebuild")
    return max(candidates, key=lambda p: (p.stat().st_mtime, str(p)))


def default_smoke(config: dict[str, Any]) -> list[str]:
    inner = config.get("config", {}) if isinstance(config.get("config"), dict) else {}
    argv = list(inner.get("Entrypoint") or []) + list(inner.get("Cmd") or [])
    return [str(a) for a in argv]


def snapshot(context: Path, target: Path, exclude: Path) -> Path:
    """Copy the context, leaving out imgopt's own work dir when it lies inside it (the
    default `.imgopt` usually does), so builds never see their own output."""
    excluded = exclude.resolve()

    def ignore(directory: str, names: list[str]) -> list[str]:
        return [n for n in names if (Path(directory) / n).resolve() == excluded]

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(context, target, symlinks=True, ignore=ignore)
    return target


def measure_side(name: str, dockerfile: str, context: Path, work: Path, smoke: str | None,
                 touch: str | None, smoke_timeout: float) -> Side:
    # BEGIN SOLUTION: cold build, analyse, smoke in the rootfs, source change, warm rebuild
    if not context.is_dir():
        raise InputNotFoundError(f"{context}: build context is not a directory")
    builder = buildah.new_builder(work / name / "storage")
    context = snapshot(context, work / name / "context", work)
    cold = buildah.build(builder, dockerfile, context)
    image = read_image(str(cold.image.docker_archive))
    analysis = analyse(image)
    bundle = work / name / "bundle"
    shutil.rmtree(bundle, ignore_errors=True)
    root = rootfs.unpack(cold.image.oci_layout, cold.image.oci_tag, bundle)
    argv = ["/bin/sh", "-c", smoke] if smoke else default_smoke(image.config)
    if not argv:
        raise ProbeError(f"{name}: no smoke command (the image has no CMD; pass --smoke)")
    result = rootfs.run_in(root, argv, smoke_timeout)
    changed = snapshot(context, work / name / "context-changed", work)
    target = changed / touch if touch else pick_source_file(changed)
    if not target.is_file():
        raise InputNotFoundError(f"--touch {touch}: not a file in the context")
    with target.open("a") as handle:
        handle.write("\n")
    warm = buildah.build(builder, dockerfile, changed)
    return Side(dockerfile=name, size_bytes=analysis.dive.size_bytes,
                layers=len(analysis.layers), efficiency=analysis.dive.efficiency,
                reclaimable_bytes=analysis.reclaimable_bytes, cold_seconds=cold.seconds,
                rebuild_seconds=warm.seconds, smoke_ok=result.ok,
                smoke_output=result.output.strip()[-500:],
                oci_layout=str(cold.image.oci_layout))
    # END SOLUTION


def compare(a: tuple[str, str, Path], b: tuple[str, str, Path], work: Path,
            smoke: str | None = None, touch: str | None = None,
            smoke_timeout: float = 30.0) -> tuple[Side, Side]:
    """Each of `a`, `b` is (name, Dockerfile text, context dir)."""
    before = measure_side(a[0], a[1], a[2], work, smoke, touch, smoke_timeout)
    after = measure_side(b[0], b[1], b[2], work, smoke, touch, smoke_timeout)
    return before, after


def smoke_description(smoke: str | None) -> str:
    return shlex.quote(smoke) if smoke else "the image's CMD"
