"""Real evaluation corpora that nobody here wrote: pages of Debian's `python3.11-doc` (the
Python 3.11 tutorial and FAQs, HTML) and `git-doc` (git's command manual, HTML).

The page texts are not copied into this repository: `data/realdocs/manifest.json` names the
pages with their SHA-256 (so every run judges the same text), and `materialize` copies them
from the installed Debian package into a folder `ragkit ingest`/`eval` can read. Only the
question sets (`python-docs.jsonl`, `git-docs.jsonl`) are ours: written as users would ask,
paraphrased, graded relevance, the Python set split into a tuning and a reporting half.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ragkit.bundled import DATA

REALDOCS = DATA / "realdocs"


class RealDocsError(Exception):
    """The Debian documentation package is missing or is not the pinned version."""


@dataclass(frozen=True)
class Suite:
    name: str
    package: str
    version: str
    root: Path
    licence: str
    dataset: Path
    pages: dict[str, str]  # relative path -> sha256


def suites() -> dict[str, Suite]:
    raw = json.loads((REALDOCS / "manifest.json").read_text())
    return {name: Suite(name, s["package"], s["version"], Path(s["root"]), s["licence"],
                        REALDOCS / s["dataset"], dict(s["pages"])) for name, s in raw.items()}


def suite(name: str) -> Suite:
    known = suites()
    if name not in known:
        raise RealDocsError(f"unknown suite '{name}': expected one of {', '.join(sorted(known))}")
    return known[name]


def materialize(s: Suite, dest: Path) -> Path:
    """Copy the suite's pages from the installed package into `dest` (idempotent)."""
    if not s.root.is_dir():
        raise RealDocsError(f"{s.root} not found: install the Debian package {s.package} "
                            f"(apt-get install {s.package}; `make setup` does it)")
    for rel, digest in sorted(s.pages.items()):
        source = s.root / rel
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise RealDocsError(f"{source}: cannot read ({exc.strerror}); is {s.package} "
                                "installed completely?") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise RealDocsError(f"{source} differs from the pinned page: the questions were "
                                f"judged on {s.package} {s.version}")
        target = dest / rel
        if not target.exists() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return dest
