"""Locating tools and running them: one place that turns a failed tool into a clear error."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from envman.errors import BackendFailedError, PackageNotFoundError, ToolUnavailableError

log = logging.getLogger(__name__)

# Phrases with which pip, uv, Poetry and conda say "that package/version does not exist".
_NOT_FOUND_MARKERS = (
    "no matching distribution found",
    "not found in the package registry",
    "was not found in the package registry",
    "could not find a version that satisfies",
    "no solution found when resolving",
    "because there is no version of",
    "could not find a matching version",
    "packagesnotfounderror",
    "nothing provides requested",
    "version solving failed",
    "because there are no versions of",
)


def which(name: str) -> str | None:
    """`name` on PATH, else beside the running interpreter (tools installed with envman)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else None


def uv_bin() -> str | None:
    """The uv that ships with envman (the `uv` package), else uv on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return which("uv")


def require(name: str, hint: str) -> str:
    found = uv_bin() if name == "uv" else which(name)
    if not found:
        raise ToolUnavailableError(f"{name} is not installed ({hint})")
    return found


def run_tool(cmd: Sequence[str], *, what: str, cwd: Path | None = None,
             env: Mapping[str, str] | None = None, timeout: float = 900.0) -> str:
    """Run a tool; return stdout. Failures become one-line errors with the tool's last words."""
    full_env = {**os.environ, **(env or {})}
    log.info("running %s", " ".join(cmd))
    try:
        result = subprocess.run(list(cmd), cwd=cwd, env=full_env, capture_output=True, text=True,
                                timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise ToolUnavailableError(f"{what}: {cmd[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise BackendFailedError(f"{what}: {cmd[0]} timed out after {timeout:.0f}s") from exc
    if result.returncode != 0:
        output = (result.stderr + "\n" + result.stdout).strip()
        lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
        lowered = output.lower()
        if any(marker in lowered for marker in _NOT_FOUND_MARKERS):
            detail = next((ln for ln in lines if any(m in ln.lower() for m in _NOT_FOUND_MARKERS)),
                          lines[-1] if lines else "")
            raise PackageNotFoundError(f"{what}: package not available: {_clip(detail)}")
        tail = lines[-1] if lines else f"exit code {result.returncode}"
        raise BackendFailedError(f"{what} failed ({Path(cmd[0]).name} exit {result.returncode}): "
                            f"{_clip(tail)}")
    return result.stdout


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
