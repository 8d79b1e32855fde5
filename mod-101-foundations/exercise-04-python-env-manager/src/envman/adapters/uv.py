"""uv backend: a generated virtual project in `.envman/`, `uv lock`, `uv sync --frozen`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from envman.adapters.base import Backend, Pins, parse_pins
from envman.adapters.tools import require, run_tool
from envman.context import Context
from envman.interpreters import Interpreter


def project_table(ctx: Context) -> dict[str, Any]:
    """The PEP 621 + PEP 735 pyproject both uv and Poetry (2.2+) understand."""
    spec = ctx.spec
    groups: dict[str, list[str]] = {"dev": list(spec.project.dev_dependencies)}
    groups.update({k: list(v) for k, v in spec.groups.items()})
    return {
        "project": {"name": f"{spec.project.name}-env", "version": "0.0.0",
                    "requires-python": f"=={spec.python_minor}.*",
                    "dependencies": list(spec.project.dependencies)},
        "dependency-groups": groups,
    }


class UvBackend(Backend):
    name = "uv"

    def _uv(self) -> str:
        return require("uv", "it is a dependency of envman")

    def _index_args(self, ctx: Context) -> list[str]:
        args: list[str] = []
        if ctx.settings.index_url:
            args += ["--default-index", ctx.settings.index_url]
        if ctx.settings.find_links:
            args += ["--find-links", ctx.settings.find_links]
        return args

    def _env(self, ctx: Context, env: Path | None = None) -> dict[str, str]:
        out = {**ctx.settings.tool_env("uv"), "UV_PYTHON_DOWNLOADS": "never"}
        if env is not None:
            out["UV_PROJECT_ENVIRONMENT"] = str(env)
        return out

    def lock(self, ctx: Context) -> list[Path]:
        ctx.state_dir.mkdir(parents=True, exist_ok=True)
        pyproject = ctx.state_dir / "pyproject.toml"
        old = pyproject.read_text() if pyproject.exists() else None
        pyproject.write_text(tomli_w.dumps({**project_table(ctx),
                                            "tool": {"uv": {"package": False}}}))
        try:
            run_tool([self._uv(), "lock", "--project", str(ctx.state_dir),
                      *self._index_args(ctx)],
                     what="uv lock", env=self._env(ctx), timeout=ctx.settings.timeout)
        except Exception:
            if old is None:
                pyproject.unlink(missing_ok=True)
            else:
                pyproject.write_text(old)
            raise
        return self.lock_files(ctx)

    def lock_files(self, ctx: Context) -> list[Path]:
        return [ctx.state_dir / "uv.lock"]

    def _group_args(self, dev: bool, groups: tuple[str, ...]) -> list[str]:
        args = ["--no-default-groups"]
        for group in (["dev"] if dev else []) + list(groups):
            args += ["--group", group]
        return args

    def locked(self, ctx: Context, dev: bool, groups: tuple[str, ...]) -> Pins:
        out = run_tool([self._uv(), "export", "--project", str(ctx.state_dir), "--frozen",
                        "--no-hashes", "--format", "requirements-txt", "--no-emit-project",
                        *self._group_args(dev, groups)],
                       what="uv export", env=self._env(ctx), timeout=ctx.settings.timeout)
        return parse_pins(out)

    def build(self, ctx: Context, interpreter: Interpreter, target: Path, dev: bool,
              groups: tuple[str, ...]) -> None:
        run_tool([self._uv(), "venv", "--quiet", "--python", str(interpreter.path),
                  str(target)], what="uv venv", env=self._env(ctx), timeout=ctx.settings.timeout)
        self.sync(ctx, target, dev, groups)

    def sync(self, ctx: Context, env: Path, dev: bool, groups: tuple[str, ...]) -> None:
        run_tool([self._uv(), "sync", "--project", str(ctx.state_dir), "--frozen", "--quiet",
                  *self._group_args(dev, groups), *self._index_args(ctx)],
                 what="uv sync", env=self._env(ctx, env), timeout=ctx.settings.timeout)
