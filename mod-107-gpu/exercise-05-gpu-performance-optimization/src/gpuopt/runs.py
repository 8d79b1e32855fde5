"""Run directories: written in a temporary sibling, then renamed into place.

A command that fails half-way leaves no directory behind (or the previous one untouched):
`publish_dir` is the directory counterpart of `aiinfra_shared.io.atomic_write_*`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def publish_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temp dir next to `target`; on success it replaces `target` atomically."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        target.replace(old)
    staging.replace(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
