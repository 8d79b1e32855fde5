"""Where things are: the module library (`modules/<cloud>/<name>`) and its members."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tfml.errors import NotFoundError

CLOUDS = ("aws", "gcp", "azure")


@dataclass(frozen=True)
class Module:
    cloud: str
    name: str
    path: Path

    @property
    def key(self) -> str:
        """`aws/object-store`: the release tag prefix and the CLI's module argument."""
        return f"{self.cloud}/{self.name}"


def discover(modules_dir: Path) -> list[Module]:
    """Every `modules_dir/<cloud>/<name>` that holds `.tf` files, sorted."""
    found = []
    for cloud in CLOUDS:
        base = Path(modules_dir) / cloud
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.iterdir() if p.is_dir()):
            if any(path.glob("*.tf")):
                found.append(Module(cloud, path.name, path))
    return found


def resolve(modules_dir: Path, key: str) -> Module:
    """`aws/object-store` -> the module; NotFoundError lists what exists."""
    modules = discover(modules_dir)
    for module in modules:
        if module.key == key.strip("/"):
            return module
    known = ", ".join(m.key for m in modules) or "none"
    raise NotFoundError(f"no module {key!r} under {modules_dir} (known: {known})")


def select(modules_dir: Path, keys: tuple[str, ...] = (), cloud: str | None = None) -> list[Module]:
    """The named modules, or all of them (optionally of one cloud)."""
    if keys:
        return [resolve(modules_dir, k) for k in keys]
    modules = discover(modules_dir)
    if cloud:
        modules = [m for m in modules if m.cloud == cloud]
    if not modules:
        raise NotFoundError(f"no modules under {modules_dir}")
    return modules


def tf_files(path: Path) -> list[Path]:
    """The module's own `.tf` files plus those of its examples (what fmt checks)."""
    return sorted(p for p in Path(path).rglob("*.tf") if ".terraform" not in p.parts)
