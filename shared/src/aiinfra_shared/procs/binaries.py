"""Finding the programs that tests start, with an install hint when one is missing."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


class MissingBinaryError(RuntimeError):
    """A program the caller needs is not installed."""

    def __init__(self, name: str, hint: str) -> None:
        super().__init__(f"'{name}' is not installed ({hint})")
        self.name = name
        self.hint = hint


# Places Debian keeps server binaries that are not on PATH.
_EXTRA_DIRS = (("/usr/lib/postgresql", "*/bin"), ("/usr/sbin", ""), ("/sbin", ""))

DEFAULT_HINT = "run `make setup` at the repository root"


def find_binary(name: str) -> str | None:
    """Locate `name`: the running venv's bin first, then PATH, then Debian's server dirs."""
    venv_bin = Path(sys.executable).parent / name
    if venv_bin.is_file() and os.access(venv_bin, os.X_OK):
        return str(venv_bin)
    found = shutil.which(name)
    if found:
        return found
    for base, pattern in _EXTRA_DIRS:
        # newest first: /usr/lib/postgresql/16/bin before .../15/bin
        directories = sorted(Path(base).glob(pattern), reverse=True) if pattern else [Path(base)]
        for directory in directories:
            candidate = Path(directory) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def require_binary(name: str, hint: str = DEFAULT_HINT) -> str:
    """Return the path of `name` or raise MissingBinaryError with an install hint."""
    path = find_binary(name)
    if path is None:
        raise MissingBinaryError(name, hint)
    return path
