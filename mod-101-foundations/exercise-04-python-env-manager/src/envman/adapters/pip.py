"""venv + pip backend: `python -m venv`, pip installs, `uv pip compile` for the lock.

Lock layout (`.envman/requirements/`): `all.lock` resolves everything together (main, dev,
every group) so versions agree; `main.lock`, `dev.lock` and `<group>.lock` are each resolved
with `-c all.lock`, so the union of the selected files is the exact set to install.
"""

from __future__ import annotations

from pathlib import Path

from envman.adapters.base import Backend, Pins, PipSyncMixin, parse_pins
from envman.adapters.tools import require, run_tool
from envman.context import Context
from envman.interpreters import Interpreter


def lock_sets(ctx: Context) -> dict[str, list[str]]:
    """Requirement inputs per lock file (each set includes the main dependencies)."""
    project = ctx.spec.project
    sets = {"main": list(project.dependencies),
            "dev": [*project.dependencies, *project.dev_dependencies]}
    for group, reqs in ctx.spec.groups.items():
        sets[group] = [*project.dependencies, *reqs]
    sets["all"] = [*project.dependencies, *project.dev_dependencies,
                   *(r for reqs in ctx.spec.groups.values() for r in reqs)]
    return sets


def compile_command(uv: str, ctx: Context, inp: str, out: str,
                    constraint: str | None) -> list[str]:
    cmd = [uv, "pip", "compile", inp, "-o", out, "--no-header", "--quiet",
           "--python-version", ctx.spec.python_minor]
    if constraint:
        cmd += ["-c", constraint]
    if ctx.settings.index_url:
        cmd += ["--index-url", ctx.settings.index_url]
    if ctx.settings.find_links:
        cmd += ["--find-links", ctx.settings.find_links]
    return cmd


class PipLockMixin:
    def lock_dir(self, ctx: Context) -> Path:
        return ctx.state_dir / "requirements"

    def lock(self, ctx: Context) -> list[Path]:
        uv = require("uv", "it is a dependency of envman")
        folder = self.lock_dir(ctx)
        folder.mkdir(parents=True, exist_ok=True)
        sets = lock_sets(ctx)
        order = ["all", *(name for name in sets if name != "all")]
        written: list[Path] = []
        # Relative paths (cwd = project) keep machine paths out of the annotations.
        rel = folder.relative_to(ctx.project)
        staged: list[tuple[Path, Path]] = []
        for name in order:
            (folder / f"{name}.in").write_text("\n".join(sets[name]) + "\n")
            tmp_out = folder / f".{name}.lock.tmp"
            run_tool(compile_command(uv, ctx, str(rel / f"{name}.in"), str(rel / tmp_out.name),
                                     None if name == "all" else str(rel / ".all.lock.tmp")),
                     what=f"uv pip compile ({name})", cwd=ctx.project,
                     env=ctx.settings.tool_env("uv"), timeout=ctx.settings.timeout)
            staged.append((tmp_out, folder / f"{name}.lock"))
        # Only after every set resolved: swap them in, so a failed lock changes nothing.
        for tmp, final in staged:
            final.write_text(tmp.read_text().replace(".all.lock.tmp", "all.lock"))
            tmp.unlink()
            written.append(final)
        for stale in folder.glob("*.lock"):
            if stale.stem not in sets:
                stale.unlink()
                (folder / f"{stale.stem}.in").unlink(missing_ok=True)
        return written

    def lock_files(self, ctx: Context) -> list[Path]:
        return [self.lock_dir(ctx) / f"{name}.lock" for name in lock_sets(ctx)]

    def locked(self, ctx: Context, dev: bool, groups: tuple[str, ...]) -> Pins:
        # BEGIN SOLUTION: union of the main, dev and group lock files, parsed into pins
        names = ["main", *(["dev"] if dev else []), *groups]
        pins: Pins = {}
        for name in names:
            pins.update(parse_pins((self.lock_dir(ctx) / f"{name}.lock").read_text()))
        return pins
        # END SOLUTION


class VenvPipBackend(PipLockMixin, PipSyncMixin, Backend):
    name = "venv"

    def build(self, ctx: Context, interpreter: Interpreter, target: Path, dev: bool,
              groups: tuple[str, ...]) -> None:
        run_tool([str(interpreter.path), "-m", "venv", str(target)], what="python -m venv",
                 timeout=ctx.settings.timeout)
        self.pip_sync(ctx, target / "bin" / "python", self.locked(ctx, dev, groups))

    def sync(self, ctx: Context, env: Path, dev: bool, groups: tuple[str, ...]) -> None:
        self.pip_sync(ctx, env / "bin" / "python", self.locked(ctx, dev, groups))
