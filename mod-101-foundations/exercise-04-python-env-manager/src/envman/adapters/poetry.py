"""Poetry backend: the same generated pyproject (package-mode off), `poetry lock/sync`.

Poetry installs into the environment named by VIRTUAL_ENV, so envman creates the venv itself
(in a staging directory) and lets Poetry fill it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from packaging.utils import canonicalize_name

from envman.adapters.base import Backend, Pins
from envman.adapters.tools import require, run_tool
from envman.adapters.uv import project_table
from envman.context import Context
from envman.interpreters import Interpreter


def poetry_pyproject(ctx: Context) -> dict[str, Any]:
    data = project_table(ctx)
    tool: dict[str, Any] = {"package-mode": False}
    # Named groups are opt-in (like `--group` for uv); dev is on by default.
    tool["group"] = {name: {"optional": True} for name in ctx.spec.groups}
    if ctx.settings.index_url:
        tool["source"] = [{"name": "envman-index", "url": ctx.settings.index_url,
                           "priority": "primary"}]
    data["tool"] = {"poetry": tool}
    return data


class PoetryBackend(Backend):
    name = "poetry"

    def _poetry(self) -> str:
        return require("poetry", "install it with `uv tool install poetry` or `pipx install "
                                 "poetry`")

    def _env(self, ctx: Context, venv: Path | None = None) -> dict[str, str]:
        env = {**ctx.settings.tool_env("poetry"), "POETRY_NO_INTERACTION": "1",
               "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
               "POETRY_VIRTUALENVS_CREATE": "false"}
        if venv is not None:
            env["VIRTUAL_ENV"] = str(venv)
        return env

    def lock(self, ctx: Context) -> list[Path]:
        ctx.state_dir.mkdir(parents=True, exist_ok=True)
        pyproject = ctx.state_dir / "pyproject.toml"
        old = pyproject.read_text() if pyproject.exists() else None
        pyproject.write_text(tomli_w.dumps(poetry_pyproject(ctx)))
        try:
            run_tool([self._poetry(), "lock", "--directory", str(ctx.state_dir)],
                     what="poetry lock", env=self._env(ctx), timeout=ctx.settings.timeout,
                     index_url=ctx.settings.index_url)
        except Exception:
            if old is None:
                pyproject.unlink(missing_ok=True)
            else:
                pyproject.write_text(old)
            raise
        return self.lock_files(ctx)

    def lock_files(self, ctx: Context) -> list[Path]:
        return [ctx.state_dir / "poetry.lock"]

    def locked(self, ctx: Context, dev: bool, groups: tuple[str, ...]) -> Pins:
        data = tomllib.loads((ctx.state_dir / "poetry.lock").read_text())
        wanted = {"main", *(["dev"] if dev else []), *groups}
        return {canonicalize_name(pkg["name"]): pkg["version"]
                for pkg in data.get("package", [])
                if wanted & set(pkg.get("groups", ["main"]))}

    def build(self, ctx: Context, interpreter: Interpreter, target: Path, dev: bool,
              groups: tuple[str, ...]) -> None:
        run_tool([str(interpreter.path), "-m", "venv", "--without-pip", str(target)],
                 what="python -m venv", timeout=ctx.settings.timeout)
        self.sync(ctx, target, dev, groups)

    def sync(self, ctx: Context, env: Path, dev: bool, groups: tuple[str, ...]) -> None:
        only = ",".join(["main", *(["dev"] if dev else []), *groups])
        run_tool([self._poetry(), "sync", "--no-root", "--only", only,
                  "--directory", str(ctx.state_dir)],
                 what="poetry sync", env=self._env(ctx, env), timeout=ctx.settings.timeout,
                 index_url=ctx.settings.index_url)
