"""Builds with buildah (`bud --isolation chroot --storage-driver vfs --layers`, private
`--root`), through the shared `aiinfra_shared.procs.images.ImageBuilder`, timing only the
`bud` step (exporting the archive and the layout is not part of a build's cost)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiinfra_shared.procs.binaries import MissingBinaryError
from aiinfra_shared.procs.images import BuiltImage, ImageBuilder, ImageBuildError

from imgopt.errors import ToolError, ToolMissingError


class TimedBuilder(ImageBuilder):
    """An ImageBuilder that remembers how long each `buildah bud` took."""

    def __init__(self, work_dir: Path, timeout: float = 600.0) -> None:
        super().__init__(work_dir, timeout=timeout)
        self.bud_seconds: list[float] = []

    def buildah_cmd(self, *args: str, timeout: float | None = None) -> str:
        started = time.perf_counter()
        output = super().buildah_cmd(*args, timeout=timeout)
        if args and args[0] == "bud":
            self.bud_seconds.append(time.perf_counter() - started)
        return output


@dataclass(frozen=True)
class Build:
    image: BuiltImage
    seconds: float


def new_builder(work_dir: Path) -> TimedBuilder:
    try:
        return TimedBuilder(work_dir)
    except MissingBinaryError as exc:
        raise ToolMissingError(str(exc)) from exc


def build(builder: TimedBuilder, dockerfile: str, context: Path, **kwargs: Any) -> Build:
    """Build `dockerfile` with `context` (a directory); the static busybox is added to it."""
    try:
        before = len(builder.bud_seconds)
        image = builder.build(dockerfile, context, **kwargs)
    except MissingBinaryError as exc:
        raise ToolMissingError(str(exc)) from exc
    except ImageBuildError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise ToolError("build failed: " + " | ".join(lines[:1] + lines[-3:])) from exc
    seconds = builder.bud_seconds[-1] if len(builder.bud_seconds) > before else 0.0
    return Build(image=image, seconds=seconds)
