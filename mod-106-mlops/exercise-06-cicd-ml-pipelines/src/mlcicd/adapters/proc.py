"""Running command-line tools: one place that turns 'not installed' and timeouts into errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlcicd.errors import UnavailableError


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for child tools: this interpreter's bin dir first on PATH, so DVC stages
    calling `python` and `mlcicd` get the same environment as the CLI that started them."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    if extra:
        env.update(extra)
    return env


def run(command: Sequence[str], cwd: Path, timeout: float = 600.0,
        env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run and capture; the caller decides what a non-zero exit means."""
    try:
        return subprocess.run(list(command), cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, env=tool_env(env), check=False)
    except FileNotFoundError as exc:
        raise UnavailableError(f"{command[0]} is not installed (needed for {' '.join(command[:2])})"
                          ) from exc
    except subprocess.TimeoutExpired as exc:
        raise UnavailableError(f"{' '.join(command[:3])} did not finish within {timeout:.0f} s"
                          ) from exc


def last_line(text: str) -> str:
    """The most useful line of a tool's error output (the last non-empty one)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
