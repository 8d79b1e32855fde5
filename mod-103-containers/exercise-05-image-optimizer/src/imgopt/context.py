"""Build-context measurement for the .dockerignore rule: what `COPY .` would really send.

Reads the filesystem (a small, read-only job), so the rule itself stays pure over ContextStats.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from imgopt.errors import InputNotFoundError


@dataclass(frozen=True)
class ContextStats:
    root: str
    dockerignore: tuple[str, ...] | None  # patterns, None when the file is missing
    files: dict[str, int] = field(default_factory=dict)  # every file, relative -> size
    sent: dict[str, int] = field(default_factory=dict)  # files .dockerignore lets through

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())

    @property
    def sent_bytes(self) -> int:
        return sum(self.sent.values())

    def top_dirs(self, limit: int = 5) -> list[tuple[str, int]]:
        totals: dict[str, int] = {}
        for path, size in self.sent.items():
            top = path.split("/", 1)[0] + ("/" if "/" in path else "")
            totals[top] = totals.get(top, 0) + size
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]


def ignored(path: str, patterns: tuple[str, ...]) -> bool:
    """Docker's rule: the last matching pattern wins; `!pattern` re-includes; a pattern also
    matches everything below a matching directory."""
    result = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip().strip("/").removeprefix("./")
        if not pattern:
            continue
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        hit = any(fnmatch.fnmatchcase(prefix, pattern) or
                  (pattern.startswith("**/") and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1],
                                                                     pattern[3:]))
                  for prefix in prefixes)
        if hit:
            result = not negate
    return result


def measure(root: Path) -> ContextStats:
    if not root.is_dir():
        raise InputNotFoundError(f"{root}: build context is not a directory")
    ignore_file = root / ".dockerignore"
    patterns: tuple[str, ...] | None = None
    if ignore_file.is_file():
        patterns = tuple(line.strip() for line in ignore_file.read_text().splitlines()
                         if line.strip() and not line.strip().startswith("#"))
    files: dict[str, int] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            files[path.relative_to(root).as_posix()] = path.stat().st_size
    sent = {p: s for p, s in files.items() if not (patterns and ignored(p, patterns))}
    return ContextStats(root=str(root), dockerignore=patterns, files=files, sent=sent)
