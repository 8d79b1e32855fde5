"""Container engines for `envman docker build`: docker when its daemon answers, else buildah."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from envman.adapters.tools import run_tool, which
from envman.errors import ToolUnavailableError


@dataclass(frozen=True)
class Engine:
    name: str
    exe: str

    def build_command(self, context: Path, tag: str, platform: str | None = None) -> list[str]:
        """The build command; `platform` matches the one the exported lock was resolved for."""
        dockerfile = str(context / "Dockerfile")
        plat = ["--platform", platform] if platform else []
        if self.name == "buildah":
            return [self.exe, "build", "--isolation", "chroot", *plat, "-f", dockerfile,
                    "-t", tag, str(context)]
        return [self.exe, "build", *plat, "-f", dockerfile, "-t", tag, str(context)]


def _docker_daemon_up(exe: str) -> bool:
    try:
        result = subprocess.run([exe, "info"], capture_output=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def detect_engine() -> Engine:
    """docker (client + reachable daemon), else buildah, else a plain explanation."""
    # BEGIN SOLUTION: docker if its daemon answers, else buildah, else say why not
    docker = which("docker")
    if docker and _docker_daemon_up(docker):
        return Engine("docker", docker)
    buildah = which("buildah")
    if buildah:
        return Engine("buildah", buildah)
    why = "docker is installed but its daemon is not reachable" if docker else \
        "neither docker nor buildah is installed"
    raise ToolUnavailableError(f"no container engine: {why}; the Dockerfile is ready, build it "
                          "where an engine runs")
    # END SOLUTION


def build(engine: Engine, context: Path, tag: str, timeout: float = 1800.0,
          platform: str | None = None) -> None:
    run_tool(engine.build_command(context, tag, platform), what=f"{engine.name} build",
             timeout=timeout)
