"""Conda backend (conda, mamba or micromamba): conda provides the interpreter, pip the packages.

The pip part is locked like the venv backend (`uv pip compile`), so the same lock exports to
`requirements.txt` and to `environment.yml`. Conda prefixes embed their own path in many files
and cannot be moved, so conda environments are built at their final path; `envs.create` keeps
the previous environment aside and puts it back if the build fails.
"""

from __future__ import annotations

import os
from pathlib import Path

from envman.adapters.base import Backend, PipSyncMixin
from envman.adapters.pip import PipLockMixin
from envman.adapters.tools import run_tool, which
from envman.context import Context
from envman.errors import ToolUnavailableError
from envman.interpreters import Interpreter

CONDA_TOOLS = ("micromamba", "mamba", "conda")


def find_conda(explicit: str | None = None) -> str:
    """The configured conda executable, else the first of micromamba/mamba/conda on PATH."""
    # BEGIN SOLUTION: configured exe, then micromamba, mamba, conda, then CONDA_EXE
    if explicit:
        found = which(explicit) or (explicit if Path(explicit).exists() else None)
        if not found:
            raise ToolUnavailableError(f"conda_exe {explicit!r} not found")
        return found
    for tool in CONDA_TOOLS:
        found = which(tool)
        if found:
            return found
    env_exe = os.environ.get("CONDA_EXE")
    if env_exe and Path(env_exe).exists():
        return env_exe
    raise ToolUnavailableError("no conda, mamba or micromamba on PATH (install Miniforge or "
                          "micromamba, or set conda_exe in the config)")
    # END SOLUTION


def create_command(conda: str, prefix: Path, python: str,
                   channels: tuple[str, ...] = ("conda-forge",)) -> list[str]:
    """`<conda> create` for an env with just python + pip at `prefix`."""
    # BEGIN SOLUTION: create --prefix with pinned channels, python=X.Y and pip
    cmd = [conda, "create", "--yes", "--quiet", "--prefix", str(prefix)]
    if Path(conda).name.startswith("micromamba") or channels:
        for channel in channels:
            cmd += ["--channel", channel]
        cmd.append("--override-channels")
    cmd += [f"python={python}", "pip"]
    return cmd
    # END SOLUTION


def remove_command(conda: str, prefix: Path) -> list[str]:
    return [conda, "env", "remove", "--yes", "--prefix", str(prefix)]


class CondaBackend(PipLockMixin, PipSyncMixin, Backend):
    name = "conda"
    relocatable = False

    def build(self, ctx: Context, interpreter: Interpreter, target: Path, dev: bool,
              groups: tuple[str, ...]) -> None:
        # conda supplies its own interpreter of the requested version; `interpreter` is unused.
        conda = find_conda(ctx.settings.conda_exe)
        run_tool(create_command(conda, target, ctx.spec.python_minor), what="conda create",
                 env=ctx.settings.tool_env("conda"), timeout=ctx.settings.timeout)
        self.pip_sync(ctx, target / "bin" / "python", self.locked(ctx, dev, groups))

    def sync(self, ctx: Context, env: Path, dev: bool, groups: tuple[str, ...]) -> None:
        self.pip_sync(ctx, env / "bin" / "python", self.locked(ctx, dev, groups))
