"""Repository-wide rules that are cheap to check mechanically."""

from __future__ import annotations

import subprocess
import tempfile
import tomllib
from pathlib import Path

from aiinfra_shared.workspace.exercises import discover


def _machine_prefixes(repo_root: Path) -> list[str]:
    """Paths that only exist on this machine: home, temp dir, the checkout's parent."""
    prefixes = {str(Path.home()) + "/", tempfile.gettempdir().rstrip("/") + "/",
                str(repo_root.parent) + "/"}
    return sorted(p for p in prefixes if len(p) > 2)


def _pins(repo_root: Path) -> dict[str, str]:
    pins = {}
    for line in (repo_root / "shared" / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = (part.strip() for part in line.split("=="))
            pins[name.lower()] = version
    return pins


def test_locks_use_the_shared_heavy_versions(repo_root: Path) -> None:
    pins = _pins(repo_root)
    mismatches = []
    for exercise in discover(repo_root):
        lock = tomllib.loads((exercise.path / "uv.lock").read_text())
        for package in lock.get("package", []):
            name = package["name"].lower()
            if name in pins and package["version"].split("+")[0] != pins[name]:
                mismatches.append(f"{exercise.code}: {name} {package['version']}")
    assert mismatches == []


def test_no_machine_specific_paths_in_tracked_files(repo_root: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=repo_root, capture_output=True, text=True,
                           check=True).stdout.split()
    prefixes = _machine_prefixes(repo_root)
    offenders = []
    for name in files:
        if name.startswith("shared/tests/") or not name.endswith(
            (".lock", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".json", ".txt")
        ):
            continue
        text = (repo_root / name).read_text(errors="replace")
        if "file://" in text or any(prefix in text for prefix in prefixes):
            offenders.append(name)
    assert offenders == []


def test_every_exercise_has_the_skeleton(repo_root: Path) -> None:
    required = ("README.md", "pyproject.toml", "uv.lock", "Makefile", "Dockerfile",
                ".dockerignore", "src", "tests", "docs")
    missing = [f"{ex.code}: {name}" for ex in discover(repo_root) for name in required
               if not (ex.path / name).exists()]
    assert missing == []
