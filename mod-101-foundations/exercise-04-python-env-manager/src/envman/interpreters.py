"""Find a Python interpreter of a requested version: PATH, then pyenv, then uv-managed.

The version is checked by running the interpreter, because names lie (`python3` may be
anything, and a pyenv shim may point at a version that is not installed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from envman.adapters.tools import uv_bin
from envman.errors import InterpreterNotFoundError


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str  # full, e.g. 3.11.7
    source: str  # PATH | pyenv | uv-managed

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def probe_version(python: Path) -> str | None:
    """The full version `python` reports, or None if it does not run."""
    try:
        result = subprocess.run(
            [str(python), "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _matches(found: str, wanted: str) -> bool:
    return found == wanted or found.startswith(wanted + ".")


def _path_candidates(wanted: str) -> list[Path]:
    minor = ".".join(wanted.split(".")[:2])
    names = [f"python{minor}", "python3", "python"]
    found = [shutil.which(name) for name in names]
    return [Path(p) for p in found if p]


def _pyenv_candidates(wanted: str) -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if not root.is_dir():
        return []
    minor = ".".join(wanted.split(".")[:2])
    dirs = [d for d in root.iterdir() if _matches(d.name, wanted)]

    def key(d: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in d.name.split(".") if p.isdigit())

    return [d / "bin" / f"python{minor}" for d in sorted(dirs, key=key, reverse=True)]


def _uv_candidates(wanted: str) -> list[Path]:
    uv = uv_bin()
    if uv is None:
        return []
    try:
        result = subprocess.run(
            [uv, "python", "find", "--managed-python", "--no-python-downloads", wanted],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [Path(result.stdout.strip())] if result.returncode == 0 and result.stdout.strip() \
        else []


def find_interpreter(wanted: str) -> Interpreter:
    """The first interpreter matching `wanted` (3.11 or 3.11.7) or InterpreterNotFoundError."""
    # BEGIN SOLUTION: try PATH, pyenv, uv-managed; probe each version by running it
    seen: set[Path] = set()
    for source, candidates in (("PATH", _path_candidates), ("pyenv", _pyenv_candidates),
                               ("uv-managed", _uv_candidates)):
        for path in candidates(wanted):
            if path in seen or not path.exists():
                continue
            seen.add(path)
            version = probe_version(path)
            if version and _matches(version, wanted):
                return Interpreter(path, version, source)
    raise InterpreterNotFoundError(
        f"Python {wanted} not found (searched PATH, pyenv, uv-managed); install it with "
        f"`uv python install {wanted}` or `pyenv install {wanted}`, or choose another with "
        "--python")
    # END SOLUTION
