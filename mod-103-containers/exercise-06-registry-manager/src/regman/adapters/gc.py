"""The registry's own garbage collector (`registry garbage-collect CONFIG`) and disk usage.

Deleting manifests over the API only unlinks them; blob bytes are freed by GC, which must run
against the same storage while the registry is idle or read-only.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from regman.errors import RegistryUnavailableError, RegmanError


def garbage_collect(binary: str, config: Path, timeout: float = 600) -> str:
    # BEGIN SOLUTION: run BINARY garbage-collect CONFIG; errors say what failed
    path = shutil.which(binary) or (binary if Path(binary).is_file() else None)
    if path is None:
        raise RegistryUnavailableError(f"garbage collection needs {binary!r} on PATH "
                                       "(apt-get install docker-registry)")
    result = subprocess.run([path, "garbage-collect", str(config)], capture_output=True,
                            text=True, check=False, timeout=timeout)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RegmanError(f"garbage-collect {config} failed: {tail[0]}")
    return result.stdout + result.stderr
    # END SOLUTION


def disk_usage(root: Path) -> int:
    """Bytes of regular files under `root` (the registry storage directory)."""
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())


def registry_read_only(config: Path) -> bool:
    """True when the registry config sets `storage.maintenance.readonly.enabled: true`, the
    mode in which distribution refuses pushes so garbage collection is safe."""
    try:
        data = yaml.safe_load(Path(config).read_text())
    except (OSError, yaml.YAMLError):
        return False
    node: object = data
    for key in ("storage", "maintenance", "readonly", "enabled"):
        node = node.get(key) if isinstance(node, dict) else None
    return node is True
