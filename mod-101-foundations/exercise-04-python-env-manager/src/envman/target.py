"""The lock an export ships: resolved for the image's platform, every pin with its hashes.

The environment lock (`envman lock`) is resolved for the machine envman runs on, because it
builds the local `.venv`. A Dockerfile or `environment.yml` installs on Linux (often another
CPU), where environment markers (`platform_machine == 'aarch64'`, `sys_platform`) and wheel
tags select different packages. So an export resolves again with `uv pip compile
--python-platform`, constrained to the versions of the environment lock (local and image
environments agree wherever both have a package), with `--generate-hashes`, so the image
installs with `pip --require-hashes` exactly the files that were locked.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from envman.adapters.base import Pins, parse_pins
from envman.adapters.tools import require, run_tool
from envman.context import Context
from envman.errors import UsageError

# Docker platform -> uv's --python-platform. The default base image is Debian bookworm
# (glibc 2.36), so manylinux wheels up to 2_36 run in it.
PLATFORMS = {
    "linux/amd64": "x86_64-manylinux_2_36",
    "linux/arm64": "aarch64-manylinux_2_36",
}
DEFAULT_PLATFORM = "linux/amd64"

Hashes = dict[str, list[str]]  # canonical name -> ["sha256:...", ...]


@dataclass
class TargetLock:
    platform: str
    pins: Pins
    hashes: Hashes = field(default_factory=dict)


def check_platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise UsageError(f"unknown platform {platform!r}; choose one of "
                         f"{', '.join(sorted(PLATFORMS))}")
    return platform


def parse_hashes(text: str) -> Hashes:
    """`--hash=sha256:...` continuation lines of `uv pip compile --generate-hashes` output."""
    # BEGIN SOLUTION: attach each --hash line to the pin above it
    hashes: Hashes = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.strip().rstrip("\\").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            if current is not None:
                hashes.setdefault(current, []).append(line.removeprefix("--hash="))
            continue
        if "==" in line and not line.startswith("-"):
            current = canonicalize_name(line.split("==", 1)[0].split("[", 1)[0].strip())
    return hashes
    # END SOLUTION


def selected_requirements(ctx: Context, dev: bool, groups: tuple[str, ...]) -> list[str]:
    """The direct requirements of the selection an export ships."""
    project = ctx.spec.project
    reqs = list(project.dependencies) + (list(project.dev_dependencies) if dev else [])
    for group in groups:
        reqs += ctx.spec.groups.get(group, [])
    return reqs


def resolve(ctx: Context, host_pins: Pins, dev: bool, groups: tuple[str, ...],
            platform: str) -> TargetLock:
    """Resolve the selection for `platform`, pinned to the host lock's versions, hashed."""
    # BEGIN SOLUTION: uv pip compile --python-platform --generate-hashes -c host pins
    check_platform(platform)
    uv = require("uv", "it is a dependency of envman")
    reqs = selected_requirements(ctx, dev, groups)
    ctx.state_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="export-", dir=ctx.state_dir) as tmp:
        folder = Path(tmp)
        (folder / "target.in").write_text("\n".join(reqs) + "\n")
        (folder / "host.txt").write_text(
            "".join(f"{n}=={v}\n" for n, v in sorted(host_pins.items())))
        cmd = [uv, "pip", "compile", "target.in", "-c", "host.txt", "--no-header", "--quiet",
               "--generate-hashes", "--python-platform", PLATFORMS[platform],
               "--python-version", ctx.spec.python_minor]
        if ctx.settings.index_url:
            cmd += ["--index-url", ctx.settings.index_url]
        if ctx.settings.find_links:
            cmd += ["--find-links", ctx.settings.find_links]
        out = run_tool(cmd, what=f"uv pip compile (export for {platform})", cwd=folder,
                       env=ctx.settings.tool_env("uv"), timeout=ctx.settings.timeout)
    return TargetLock(platform, parse_pins(out), parse_hashes(out))
    # END SOLUTION
