"""Environment lifecycle: lock, atomic create, sync, inspect, diff, clean.

Atomic create: the new environment is built in `.envman/staging-*` (same filesystem), its
absolute paths are rewritten to the final location, and only then is it renamed into place.
A failure at any point deletes the staging directory and leaves the old environment and
`envman.toml` untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envman import __version__
from envman.adapters.base import Pins, installed_packages
from envman.adapters.registry import get_backend
from envman.context import (
    BASE_PACKAGES,
    Context,
    env_python,
    read_env_state,
    write_env_state,
)
from envman.errors import BackendFailedError, CorruptEnvError, NoEnvError
from envman.interpreters import Interpreter, find_interpreter, probe_version

Step = Callable[[str], None]


def _noop(_msg: str) -> None:
    return None


def lock_is_stale(ctx: Context) -> bool:
    backend = get_backend(ctx.spec.project.backend)
    meta = ctx.read_lock_meta()
    return (meta.get("spec_hash") != ctx.spec.content_hash()
            or not all(p.exists() for p in backend.lock_files(ctx)))


def lock(ctx: Context) -> list[Path]:
    backend = get_backend(ctx.spec.project.backend)
    files = backend.lock(ctx)
    ctx.write_lock_meta()
    return files


def ensure_lock(ctx: Context) -> None:
    if lock_is_stale(ctx):
        lock(ctx)


def _rewrite_prefix(env: Path, old: str, new: str) -> None:
    """Point scripts and activation files of a moved venv at its new path."""
    # BEGIN SOLUTION: swap staging path for final in bin scripts and pyvenv.cfg
    old_b, new_b = old.encode(), new.encode()
    for folder in (env / "bin",):
        for path in folder.iterdir():
            if path.is_symlink() or not path.is_file() or path.stat().st_size > 1_000_000:
                continue
            data = path.read_bytes()
            if old_b in data and b"\0" not in data:
                path.write_bytes(data.replace(old_b, new_b))
    cfg = env / "pyvenv.cfg"
    if cfg.exists():
        cfg.write_text(cfg.read_text().replace(old, new))
    # END SOLUTION


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _swap_in(new: Path, final: Path, trash: Path) -> None:
    """Put `new` at `final`; the old environment is set aside in `trash` (deleted later with
    the staging directory) and renamed back if the new one cannot be moved in, so a failed
    swap (full disk, permissions) never leaves the project without an environment."""
    # BEGIN SOLUTION: set the old env aside, move the new one in, restore on failure
    had_old = final.exists() or final.is_symlink()
    if had_old:
        final.rename(trash)
    try:
        new.rename(final)
    except OSError as exc:
        if had_old:
            trash.rename(final)
        raise BackendFailedError(
            f"could not move the new environment into place at {final} "
            f"({exc.strerror or exc}); previous environment kept") from exc
    # END SOLUTION


@dataclass
class CreateResult:
    env: Path
    interpreter: Interpreter | None
    packages: int


def create(ctx: Context, dev: bool = True, groups: tuple[str, ...] = (),
           step: Step = _noop) -> CreateResult:
    """Build the environment for `ctx.spec` and move it into place atomically."""
    backend = get_backend(ctx.spec.project.backend)
    interpreter = None
    if backend.name != "conda":  # conda brings its own interpreter
        step(f"finding Python {ctx.spec.project.python}")
        interpreter = find_interpreter(ctx.spec.project.python)
    step("locking")
    ensure_lock(ctx)
    # BEGIN SOLUTION: build in staging, rewrite prefix, rename in; restore on failure
    final = ctx.env_dir
    ctx.state_dir.mkdir(parents=True, exist_ok=True)
    state = {"backend": backend.name, "python": ctx.spec.project.python, "dev": dev,
             "groups": list(groups), "spec_hash": ctx.spec.content_hash(),
             "envman": __version__}
    if backend.relocatable:
        staging_root = Path(tempfile.mkdtemp(prefix="staging-", dir=ctx.state_dir))
        staging = staging_root / "env"
        try:
            assert interpreter is not None
            step(f"building {backend.name} environment")
            backend.build(ctx, interpreter, staging, dev, groups)
            _rewrite_prefix(staging, str(staging), str(final))
            write_env_state(staging, state)
            step("moving into place")
            _swap_in(staging, final, staging_root / "previous")
        finally:
            shutil.rmtree(staging_root, ignore_errors=True)
    else:
        backup = ctx.state_dir / f"previous-{os.getpid()}"
        if final.exists():
            final.rename(backup)
        try:
            step(f"building {backend.name} environment")
            assert interpreter is None or interpreter
            backend.build(ctx, interpreter or Interpreter(Path(), "", ""), final, dev, groups)
            write_env_state(final, state)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            if backup.exists():
                backup.rename(final)
            raise
        shutil.rmtree(backup, ignore_errors=True)
    return CreateResult(final, interpreter, len(installed_packages(env_python(final))))
    # END SOLUTION


def sync(ctx: Context, dev: bool | None = None, groups: tuple[str, ...] | None = None,
         step: Step = _noop) -> Path:
    """Make the existing env match spec + lock (creating it if it does not exist)."""
    env = ctx.env_dir
    state = read_env_state(env)
    use_dev = state.get("dev", True) if dev is None else dev
    use_groups = tuple(state.get("groups", [])) if groups is None else groups
    if not env.exists():
        return create(ctx, use_dev, use_groups, step).env
    check_env(env)
    step("locking")
    ensure_lock(ctx)
    step("syncing")
    get_backend(ctx.spec.project.backend).sync(ctx, env, use_dev, use_groups)
    write_env_state(env, {**state, "dev": use_dev, "groups": list(use_groups),
                          "spec_hash": ctx.spec.content_hash(),
                          "backend": ctx.spec.project.backend})
    return env


def check_env(env: Path) -> None:
    """Raise NoEnvError/CorruptEnvError unless `env` looks like a working environment."""
    if not env.exists():
        raise NoEnvError(f"{env}: no environment; run `envman create`")
    if not (env / "pyvenv.cfg").exists() and not (env / "conda-meta").is_dir():
        raise CorruptEnvError(f"{env}: not a virtual or conda environment (no pyvenv.cfg or "
                         "conda-meta); run `envman create` to rebuild it")
    python = env_python(env)
    if probe_version(python) is None:
        raise CorruptEnvError(f"{env}: its interpreter {python} is missing or does not run; "
                         "run `envman doctor --fix` to rebuild it")


def resolve_env(target: Path) -> Path:
    """An environment path, or a project directory (its env), as given to `diff`."""
    if (target / "pyvenv.cfg").exists() or (target / "conda-meta").is_dir():
        return target
    for name in (".venv", ".conda-env"):
        if (target / name).exists():
            return target / name
    raise NoEnvError(f"{target}: neither an environment nor a project with one")


def packages(env: Path) -> Pins:
    check_env(env)
    return installed_packages(env_python(env))


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).lstat().st_size
    return total


def info(ctx: Context) -> dict[str, Any]:
    env = ctx.env_dir
    data: dict[str, Any] = {
        "project": ctx.spec.project.name, "backend": ctx.spec.project.backend,
        "python_requested": ctx.spec.project.python, "env": str(env), "exists": env.exists(),
        "lock_stale": lock_is_stale(ctx),
    }
    if env.exists():
        check_env(env)
        pkgs = installed_packages(env_python(env))
        state = read_env_state(env)
        data.update({
            "python": probe_version(env_python(env)),
            "packages": len([n for n in pkgs if n not in BASE_PACKAGES]),
            "size_bytes": dir_size(env), "groups": state.get("groups", []),
            "dev": state.get("dev", True),
        })
    return data


def list_packages(ctx: Context) -> list[dict[str, Any]]:
    """Installed packages with their locked version and whether the spec declares them."""
    env = ctx.env_dir
    installed = packages(env)
    state = read_env_state(env)
    dev, groups = bool(state.get("dev", True)), tuple(state.get("groups", []))
    locked: Pins = {}
    if not lock_is_stale(ctx):
        locked = get_backend(ctx.spec.project.backend).locked(ctx, dev, groups)
    direct = ctx.spec.declared_names(dev=dev, groups=groups)
    rows = []
    for name in sorted(set(installed) | set(locked)):
        rows.append({"name": name, "installed": installed.get(name),
                     "locked": locked.get(name),
                     "declared": "direct" if name in direct else
                     ("transitive" if name in locked else
                      ("base" if name in BASE_PACKAGES else "no"))})
    return rows


def diff(env_a: Path, env_b: Path) -> list[dict[str, str | None]]:
    a, b = packages(env_a), packages(env_b)
    return [{"name": n, "a": a.get(n), "b": b.get(n)}
            for n in sorted(set(a) | set(b)) if a.get(n) != b.get(n)]


def clean(ctx: Context, locks: bool = False) -> list[Path]:
    """Remove the environment, staging leftovers and (with `locks`) the lock files."""
    removed: list[Path] = []
    for candidate in (ctx.project / ".venv", ctx.project / ".conda-env"):
        if candidate.exists() or candidate.is_symlink():
            _remove(candidate)
            removed.append(candidate)
    if ctx.state_dir.exists():
        for leftover in [*ctx.state_dir.glob("staging-*"), *ctx.state_dir.glob("previous-*")]:
            _remove(leftover)
            removed.append(leftover)
        if locks:
            _remove(ctx.state_dir)
            removed.append(ctx.state_dir)
    return removed


def run_env(ctx: Context) -> dict[str, str]:
    """The environment variables for `envman run`: env's bin first on PATH, spec [env]."""
    env = ctx.env_dir
    check_env(env)
    out = {**os.environ, **ctx.spec.env}
    out["PATH"] = f"{env / 'bin'}{os.pathsep}{out.get('PATH', '')}"
    out["CONDA_PREFIX" if (env / "conda-meta").is_dir() else "VIRTUAL_ENV"] = str(env)
    out.pop("PYTHONHOME", None)
    return out
