"""DVC 3 through its CLI (`python -m dvc`): the stable, documented interface (`--json` output).

The Python API (`dvc.repo.Repo`) changes between releases; the CLI's JSON does not, and running
DVC as a child process keeps its logging and locks out of this process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from mlcicd.adapters.proc import last_line, run
from mlcicd.errors import ConfigInvalidError, MlcicdError, UnavailableError


class Dvc:
    def __init__(self, root: Path, timeout: float = 600.0) -> None:
        self.root = root
        self.timeout = timeout

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = run([sys.executable, "-m", "dvc", *args], cwd=self.root, timeout=self.timeout,
                     env=env)
        if result.returncode != 0:
            message = last_line(result.stderr) or last_line(result.stdout)
            raise MlcicdError(f"dvc {args[0]} failed: {message}")
        return result.stdout

    def json(self, *args: str) -> Any:
        out = self(*args, "--json")
        return json.loads(out) if out.strip() else {}

    def remotes(self) -> dict[str, str]:
        """Configured remotes by name (all config levels)."""
        out = self("remote", "list")
        remotes = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                remotes[parts[0]] = parts[1]
        return remotes

    def default_remote(self) -> str | None:
        result = run([sys.executable, "-m", "dvc", "remote", "default"], cwd=self.root)
        name = result.stdout.strip()
        return name if result.returncode == 0 and name else None

    def require_remote(self, name: str | None) -> str:
        remotes = self.remotes()
        chosen = name or self.default_remote()
        if not chosen:
            raise ConfigInvalidError("no DVC remote configured: add one with "
                                "`dvc remote add -d NAME URL` (or pass --remote)")
        if chosen not in remotes:
            raise ConfigInvalidError(f"DVC remote {chosen!r} is not configured "
                                f"(known: {', '.join(sorted(remotes)) or 'none'})")
        return chosen

    def push(self, remote: str | None = None, env: dict[str, str] | None = None) -> str:
        name = self.require_remote(remote)
        return self._transfer("push", name, env)

    def pull(self, remote: str | None = None, env: dict[str, str] | None = None) -> str:
        name = self.require_remote(remote)
        return self._transfer("pull", name, env)

    def _transfer(self, verb: str, remote: str, env: dict[str, str] | None) -> str:
        try:
            return self(verb, "-r", remote, env=env)
        except MlcicdError as exc:
            raise UnavailableError(f"{exc} (remote {remote!r})") from exc

    def lock(self) -> dict[str, Any]:
        path = self.root / "dvc.lock"
        if not path.exists():
            raise ConfigInvalidError("dvc.lock is missing: run `dvc repro` and commit it first")
        data = yaml.safe_load(path.read_text()) or {}
        return data if isinstance(data, dict) else {}


def data_hash(lock: dict[str, Any], path: str = "data/raw/breast_cancer.csv") -> str:
    """The content hash (md5) DVC recorded for the raw data, from dvc.lock's prepare stage."""
    for stage in (lock.get("stages") or {}).values():
        for dep in stage.get("deps") or []:
            if dep.get("path") == path:
                return str(dep.get("md5") or dep.get("hash") or "")
    raise ConfigInvalidError(f"dvc.lock records no dependency {path!r}: run `dvc repro`")
