"""The backend interface, and the pip-driven install/sync shared by venv and conda."""

from __future__ import annotations

import json
import subprocess
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

from packaging.utils import canonicalize_name

from envman.adapters.tools import run_tool
from envman.context import BASE_PACKAGES, Context
from envman.errors import CorruptEnvError
from envman.interpreters import Interpreter

Pins = dict[str, str]  # canonical name -> exact version

_LIST_SCRIPT = (
    "import json, importlib.metadata as m\n"
    "print(json.dumps(sorted({(d.metadata['Name'] or '', d.version) "
    "for d in m.distributions() if d.metadata['Name']})))"
)


def installed_packages(python: Path) -> Pins:
    """What is installed, asked of the environment's own interpreter (so a broken one shows)."""
    if not python.exists():
        raise CorruptEnvError(f"{python}: interpreter missing; the environment is broken "
                         "(run `envman doctor --fix` or `envman create`)")
    try:
        result = subprocess.run([str(python), "-c", _LIST_SCRIPT], capture_output=True,
                                text=True, timeout=60, check=False)
    except OSError as exc:
        raise CorruptEnvError(f"{python}: cannot run interpreter ({exc.strerror})") from exc
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CorruptEnvError(f"{python}: interpreter fails ({last}); the environment is broken")
    return {canonicalize_name(name): version for name, version in json.loads(result.stdout)}


def parse_pins(text: str) -> Pins:
    """`name==version` lines of a requirements file (comments and options skipped)."""
    # BEGIN SOLUTION: name==version per line; skip comments, options, markers
    pins: Pins = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith("-") or "==" not in line:
            continue
        name, version = line.split("==", 1)
        pins[canonicalize_name(name.split("[", 1)[0].strip())] = version.strip()
    return pins
    # END SOLUTION


class Backend(ABC):
    """How one manager locks, builds and syncs an environment."""

    name: str
    relocatable = True  # can an env built in a staging dir be moved into place?

    @abstractmethod
    def lock(self, ctx: Context) -> list[Path]:
        """Resolve the spec into lock file(s); return their paths."""

    @abstractmethod
    def lock_files(self, ctx: Context) -> list[Path]:
        """The lock files this backend reads (they exist after `lock`)."""

    @abstractmethod
    def locked(self, ctx: Context, dev: bool, groups: tuple[str, ...]) -> Pins:
        """Exact pins the lock selects for main deps (+dev, +groups)."""

    @abstractmethod
    def build(self, ctx: Context, interpreter: Interpreter, target: Path, dev: bool,
              groups: tuple[str, ...]) -> None:
        """Create a new environment at `target` holding the locked selection."""

    @abstractmethod
    def sync(self, ctx: Context, env: Path, dev: bool, groups: tuple[str, ...]) -> None:
        """Make the existing environment `env` hold exactly the locked selection."""

    def check(self, ctx: Context, env: Path) -> list[str]:
        """Dependency conflicts in `env` (`pip check` semantics, via uv so pip is optional)."""
        from envman.adapters.tools import require

        uv = require("uv", "it is a dependency of envman")
        result = subprocess.run([uv, "pip", "check", "--python", str(env / "bin" / "python")],
                                capture_output=True, text=True, timeout=120, check=False)
        if result.returncode == 0:
            return []
        lines = (result.stdout + "\n" + result.stderr).splitlines()
        return [ln.strip().lstrip("- ").strip() for ln in lines
                if ln.strip().startswith(("-", "The package"))] or \
            [ln.strip() for ln in lines if ln.strip()][-1:]


class PipSyncMixin:
    """Install/remove with the environment's own pip, from exact pins (`--no-deps`)."""

    def pip_index_args(self, ctx: Context) -> list[str]:
        args: list[str] = []
        if ctx.settings.index_url:
            args += ["--index-url", ctx.settings.index_url]
        if ctx.settings.find_links:
            args += ["--find-links", ctx.settings.find_links]
        return args

    def pip_sync(self, ctx: Context, python: Path, pins: Pins) -> None:
        # BEGIN SOLUTION: uninstall extras, pip install --no-deps what differs
        installed = installed_packages(python)
        wanted = [f"{n}=={v}" for n, v in sorted(pins.items()) if installed.get(n) != v]
        extra = sorted(n for n in installed if n not in pins and n not in BASE_PACKAGES)
        env = ctx.settings.tool_env("pip")
        if extra:
            run_tool([str(python), "-m", "pip", "uninstall", "--yes", *extra],
                     what="pip uninstall", env=env, timeout=ctx.settings.timeout)
        if wanted:
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
                handle.write("\n".join(wanted) + "\n")
            try:
                run_tool([str(python), "-m", "pip", "install", "--no-deps", "--quiet",
                          "--disable-pip-version-check", *self.pip_index_args(ctx),
                          "-r", handle.name],
                         what="pip install", env=env, timeout=ctx.settings.timeout)
            finally:
                Path(handle.name).unlink(missing_ok=True)
        # END SOLUTION
