"""Project-level operations the CLI calls: load, init, add/remove (transactional), export."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiinfra_shared.io import atomic_write_text
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pydantic import ValidationError

from envman import envs, export, target
from envman.adapters.registry import get_backend
from envman.config import load_settings
from envman.context import Context
from envman.errors import ConflictError, MissingInputError, SpecError, UsageError
from envman.importers import Imported, discover, from_pyproject, from_requirements
from envman.spec import SPEC_FILE, Spec, find_project, load_spec, parse_spec


def load_context(directory: Path) -> Context:
    root = find_project(directory)
    spec = load_spec(root / SPEC_FILE)
    loaded = load_settings(spec.settings, f"{SPEC_FILE} [settings]")
    return Context(root, spec, loaded.settings, loaded.sources)


def init(directory: Path, *, name: str | None, python: str | None, backend: str | None,
         sources: list[Path], auto_import: bool, force: bool,
         base_image: str | None = None) -> tuple[Spec, Imported | None]:
    path = directory / SPEC_FILE
    if path.exists() and not force:
        raise ConflictError(f"{path} already exists (use --force to overwrite)")
    settings = load_settings().settings
    imported: Imported | None = None
    if sources:
        pyprojects = [s for s in sources if s.name == "pyproject.toml"]
        reqs = [s for s in sources if s.name != "pyproject.toml"]
        for source in sources:
            if not source.is_file():
                raise MissingInputError(f"{source}: no such file to import from")
        imported = from_pyproject(pyprojects[0]) if pyprojects else Imported()
        if reqs:
            extra = from_requirements(reqs)
            imported.dependencies += extra.dependencies
            imported.dev += extra.dev
            imported.sources += extra.sources
    elif auto_import:
        imported = discover(directory)
    chosen_backend = backend or settings.default_backend
    get_backend(chosen_backend)  # unknown backend -> usage error before writing anything
    try:
        spec = Spec.model_validate({
            "project": {
                "name": name or (imported.name if imported and imported.name else directory.name),
                "python": python or (imported.python if imported and imported.python else
                                     f"{sys.version_info.major}.{sys.version_info.minor}"),
                "backend": chosen_backend,
                "dependencies": imported.dependencies if imported else [],
                "dev-dependencies": imported.dev if imported else [],
            },
            "groups": imported.groups if imported else {},
            "docker": {"base-image": base_image} if base_image else {},
        })
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise SpecError(f"invalid {key}: {first['msg']}") from exc
    # Round-trip through the validator so init never writes a file `load` would reject.
    parse_spec(spec.to_toml(), str(path))
    atomic_write_text(path, spec.to_toml())
    return spec, imported


@contextmanager
def transaction(ctx: Context) -> Iterator[None]:
    """Restore envman.toml and the lock files if the block fails (add/remove)."""
    saved: dict[Path, bytes | None] = {}
    backend = get_backend(ctx.spec.project.backend)
    watched = [ctx.spec_path, ctx.lock_meta_path, ctx.state_dir / "pyproject.toml",
               *backend.lock_files(ctx)]
    for path in watched:
        saved[path] = path.read_bytes() if path.exists() else None
    try:
        yield
    except BaseException:
        for path, data in saved.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write_text(path, data.decode())
        raise


def _target_list(spec: Spec, dev: bool, group: str | None) -> list[str]:
    if dev and group:
        raise UsageError("use either --dev or --group, not both")
    if group:
        return spec.groups.setdefault(group, [])
    return spec.project.dev_dependencies if dev else spec.project.dependencies


def add(ctx: Context, packages: list[str], dev: bool, group: str | None) -> list[str]:
    """Declare `packages`, lock, and sync the env if it exists; all or nothing."""
    parsed = []
    for pkg in packages:
        try:
            parsed.append(Requirement(pkg))
        except InvalidRequirement as exc:
            raise UsageError(f"invalid requirement {pkg!r}: {exc}") from exc
    with transaction(ctx):
        target = _target_list(ctx.spec, dev, group)
        for req in parsed:
            key = canonicalize_name(req.name)
            target[:] = [r for r in target if canonicalize_name(Requirement(r).name) != key]
            target.append(str(req))
        atomic_write_text(ctx.spec_path, ctx.spec.to_toml())
        envs.lock(ctx)
        if ctx.env_dir.exists():
            envs.sync(ctx)
    return [str(r) for r in parsed]


def remove(ctx: Context, packages: list[str], dev: bool, group: str | None) -> list[str]:
    names = {canonicalize_name(p) for p in packages}
    with transaction(ctx):
        target = _target_list(ctx.spec, dev, group)
        present = {canonicalize_name(Requirement(r).name) for r in target}
        missing = sorted(names - present)
        if missing:
            raise ConflictError(f"not declared{' in group ' + group if group else ''}: "
                            f"{', '.join(missing)}")
        target[:] = [r for r in target if canonicalize_name(Requirement(r).name) not in names]
        atomic_write_text(ctx.spec_path, ctx.spec.to_toml())
        envs.lock(ctx)
        if ctx.env_dir.exists():
            envs.sync(ctx)
    return sorted(names)


# Formats that ship packages: their lock is resolved for the image's platform, with hashes.
SHIPPED = ("requirements", "conda", "dockerfile")


def export_platform(ctx: Context, platform: str | None) -> str:
    return target.check_platform(platform or ctx.spec.docker.platform
                                 or target.DEFAULT_PLATFORM)


def export_files(ctx: Context, fmt: str, dev: bool, groups: tuple[str, ...],
                 platform: str | None = None) -> dict[str, str]:
    """The files of one export format; package lists resolved for `platform` (see target.py)."""
    chosen = export_platform(ctx, platform)
    if envs.lock_is_stale(ctx):
        envs.lock(ctx)
    pins = get_backend(ctx.spec.project.backend).locked(ctx, dev, groups)
    if fmt not in SHIPPED:
        return export.render(fmt, ctx.spec, pins, platform=chosen)
    shipped = target.resolve(ctx, pins, dev, groups, chosen)
    return export.render(fmt, ctx.spec, shipped.pins, shipped.hashes, chosen)


def write_files(root: Path, files: dict[str, str], force: bool = False) -> list[Path]:
    """Write an export's files, never clobbering the user's own.

    A file that exists with other content is a conflict (exit 6) unless `force`; all files are
    checked before the first is written, so a refused export writes nothing, and each file is
    written atomically (temp file + rename).
    """
    # BEGIN SOLUTION: refuse existing files that differ (unless force), then write atomically
    if not force:
        for rel, text in files.items():
            path = root / rel
            if path.exists() and path.read_text(errors="replace") != text:
                raise ConflictError(f"{path} exists and differs from what envman would write; "
                                    "rerun with --force to overwrite it")
    written = []
    for rel, text in files.items():
        path = root / rel
        atomic_write_text(path, text)
        written.append(path)
    return written
    # END SOLUTION
