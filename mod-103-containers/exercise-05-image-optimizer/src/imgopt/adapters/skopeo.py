"""skopeo: fetch a registry image (or convert a docker-archive) into an OCI layout that
the archive reader and umoci understand. Loopback registries are plain HTTP."""

from __future__ import annotations

import subprocess
from pathlib import Path

from imgopt.adapters.tools import find_tool
from imgopt.errors import NotAnImageError, ToolError


def _plain_http(reference: str) -> bool:
    host = reference.removeprefix("docker://").split("/", 1)[0]
    return host.split(":", 1)[0] in ("localhost", "127.0.0.1", "[::1]")


def copy_to_layout(source: str, layout: Path, tag: str = "latest", insecure: bool = False,
                   timeout: float = 300.0) -> Path:
    """`skopeo copy SOURCE oci:LAYOUT:TAG`; SOURCE like `docker://host/repo:tag` or
    `docker-archive:/x.tar`."""
    skopeo = find_tool("skopeo", "apt-get install skopeo (make setup)")
    command = [skopeo, "--insecure-policy", "copy", "--quiet"]
    if source.startswith("docker://") and (insecure or _plain_http(source)):
        command.append("--src-tls-verify=false")
    layout.parent.mkdir(parents=True, exist_ok=True)
    command += [source, f"oci:{layout}:{tag}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"skopeo copy {source} ran past {timeout:.0f}s") from exc
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        message = tail[0].strip()
        if "manifest unknown" in message or "not found" in message:
            raise NotAnImageError(f"{source}: no such image ({message[-160:]})")
        raise ToolError(f"skopeo copy {source} failed: {message[-200:]}")
    return layout
