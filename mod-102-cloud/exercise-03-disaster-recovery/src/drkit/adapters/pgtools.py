"""PostgreSQL's own tools run as subprocesses: pg_basebackup, pg_verifybackup, pg_amcheck,
pg_rewind, pg_ctl, pg_receivewal, with a hard timeout on every call.

PostgreSQL refuses to run as root, and its data dirs must belong to the server user. When
drkit runs as root (as on these machines), server-side commands run as `postgres` through
`runuser`, and dirs drkit creates for the server are chowned to it. Client tools connect
over TCP and need none of that.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from drkit.errors import DrkitError, UnavailableError

SERVER_USER = "postgres"


class ToolError(DrkitError):
    """A PostgreSQL tool exited non-zero; the message holds its last stderr line."""


def server_user() -> str | None:
    """`postgres` when running as root (PostgreSQL will not run as root), else None."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError as exc:
        raise UnavailableError("running as root needs the 'postgres' user") from exc
    return SERVER_USER


def bin_dir() -> Path:
    """The PostgreSQL binaries' directory (Debian keeps them off PATH)."""
    found = shutil.which("initdb") or shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    if not candidates:
        raise UnavailableError("PostgreSQL binaries not found (apt-get install postgresql)")
    return candidates[0].parent


def tool(name: str) -> str:
    return str(bin_dir() / name)


def give_to_server(path: Path) -> None:
    """chown a dir tree to the server user (no-op when not root)."""
    user = server_user()
    if not user:
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.lchown(Path(root) / name, entry.pw_uid, entry.pw_gid)


def as_server(command: Sequence[str]) -> list[str]:
    user = server_user()
    return ["runuser", "-u", user, "--", *command] if user else list(command)


def run(command: Sequence[str], what: str, timeout: float, *, server: bool = False,
        env: dict[str, str] | None = None) -> str:
    """Run a tool; non-zero exit or timeout is a one-line ToolError."""
    argv = as_server(command) if server else list(command)
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=False,
                                timeout=timeout, env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{what} timed out after {timeout:.0f} s") from exc
    except FileNotFoundError as exc:
        raise UnavailableError(f"{what}: {argv[0]} not found") from exc
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["(no output)"]
        raise ToolError(f"{what} failed: {lines[-1]}")
    return result.stdout


def conninfo_args(host: str, port: int, user: str = "postgres") -> list[str]:
    return ["-h", host, "-p", str(port), "-U", user]
