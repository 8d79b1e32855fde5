"""`scan-repo`: scan every tag of a repository, cached by manifest digest + DB version.

Tags that point at the same digest are scanned once; a digest already scanned with the same
database is answered from the cache (a JSON summary per digest), so nightly runs over a
repository with hundreds of tags only pay for new pushes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json


@dataclass(frozen=True)
class TagResult:
    tag: str
    digest: str
    summary: dict[str, Any]
    cached: bool

    def as_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "digest": self.digest, "cached": self.cached, **self.summary}


def cache_key(digest: str, db_version: str) -> str:
    return hashlib.sha256(f"{digest}|{db_version}".encode()).hexdigest()[:32]


def scan_repository(tags: list[str], digest_of: Callable[[str], str],
                    scan_tag: Callable[[str], dict[str, Any]], cache_dir: Path,
                    db_version: str) -> list[TagResult]:
    """`digest_of(tag)` and `scan_tag(tag)` talk to the registry; this decides what to scan."""
    results = []
    cache_dir.mkdir(parents=True, exist_ok=True)
    for tag in tags:
        digest = digest_of(tag)
        path = cache_dir / f"{cache_key(digest, db_version)}.json"
        if path.is_file():
            results.append(TagResult(tag, digest, json.loads(path.read_text()), True))
            continue
        summary = scan_tag(tag)
        atomic_write_json(path, summary)
        results.append(TagResult(tag, digest, summary, False))
    return results
