"""Locating tools and running them: one place that turns a failed tool into a clear error."""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from envman.errors import (
    BackendFailedError,
    IndexUnreachableError,
    PackageNotFoundError,
    ResolutionConflictError,
    ToolUnavailableError,
)

log = logging.getLogger(__name__)

# Three different problems that the tools all report as "cannot resolve", told apart by
# their wording, checked in this order: the index could not be reached at all; a package or
# version does not exist; the packages exist but two requirements exclude each other.
_UNREACHABLE_MARKERS = (
    "connection refused",
    "failed to establish a new connection",
    "tcp connect error",
    "error sending request for url",
    "name or service not known",
    "temporary failure in name resolution",
    "dns error",
    "max retries exceeded",
    "network is unreachable",
    "all attempts to connect to",
)
_NOT_FOUND_MARKERS = (
    "no matching distribution found",
    "not found in the package registry",
    "was not found in the package registry",
    "could not find a version that satisfies",
    "because there is no version of",
    "because there are no versions of",
    "could not find a matching version",
    "which doesn't match any versions",
    "packagesnotfounderror",
    "nothing provides requested",
)
_CONFLICT_MARKERS = (
    "no solution found when resolving",
    "version solving failed",
    "requirements are unsatisfiable",
    "resolutionimpossible",
    "conflicting dependencies",
)
_INDEX_OPTIONS = ("--index-url", "--default-index", "-i")


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


DEFAULT_INDEX = "https://pypi.org/simple"


def _index_of(cmd: Sequence[str], index_url: str | None) -> str:
    """The index a command talks to, for the "unreachable" message."""
    for option, value in itertools.pairwise(cmd):
        if option in _INDEX_OPTIONS:
            return value
    return index_url or DEFAULT_INDEX


def index_reachable(url: str, timeout: float = 5.0) -> bool:
    """Whether the index answers HTTP at all (any status). pip without retries says only
    "no matching distribution" when it cannot connect, so a "not found" is double-checked."""
    if not url.startswith(("http://", "https://")):
        return True
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 (http(s) only)
            return True
    except urllib.error.HTTPError:
        return True  # it answered, if only with an error status
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _explanation(lines: list[str]) -> str:
    """The resolver's derivation ("Because A depends on x<2 and you require x>=2 ...")."""
    causes = [ln.removeprefix("cause:").strip().lstrip("╰─▶").strip() for ln in lines
              if "because" in ln.lower() or "unsatisfiable" in ln.lower()
              or "requires" in ln.lower() or "depends on" in ln.lower()]
    return " ".join(causes) or (lines[-1] if lines else "")


def classify_failure(what: str, cmd: Sequence[str], output: str, index_url: str | None,
                     returncode: int) -> Exception:
    """Turn a tool's failure output into the error (and exit code) a user can act on."""
    # BEGIN SOLUTION: unreachable index, then missing package, then conflict, else failure
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    lowered = output.lower()
    index = _index_of(cmd, index_url)
    not_found = any(marker in lowered for marker in _NOT_FOUND_MARKERS)
    if any(marker in lowered for marker in _UNREACHABLE_MARKERS) or (
            not_found and not index_reachable(index)):
        return IndexUnreachableError(f"{what}: package index unreachable: {index} (check the "
                                     "URL, the network or ENVMAN_INDEX_URL)")
    if not_found:
        detail = next((ln for ln in lines if any(m in ln.lower() for m in _NOT_FOUND_MARKERS)),
                      lines[-1] if lines else "")
        return PackageNotFoundError(f"{what}: package not available: {_clip(detail)}")
    if any(marker in lowered for marker in _CONFLICT_MARKERS):
        return ResolutionConflictError(f"{what}: requirements conflict: "
                                       f"{_clip(_explanation(lines), 500)}")
    tail = lines[-1] if lines else f"exit code {returncode}"
    return BackendFailedError(f"{what} failed ({Path(cmd[0]).name} exit {returncode}): "
                              f"{_clip(tail)}")
    # END SOLUTION


def run_tool(cmd: Sequence[str], *, what: str, cwd: Path | None = None,
             env: Mapping[str, str] | None = None, timeout: float = 900.0,
             index_url: str | None = None) -> str:
    """Run a tool; return stdout. Failures become one-line errors with the tool's last words.

    `index_url` names the index in an "unreachable" error when the command line does not
    (Poetry reads it from its pyproject).
    """
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
        raise classify_failure(what, cmd, output, index_url, result.returncode)
    return result.stdout


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
