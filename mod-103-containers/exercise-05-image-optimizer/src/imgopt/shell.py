"""Just enough shell understanding for RUN lines: split `a && b; c` into simple commands."""

from __future__ import annotations

import re
import shlex

_SEPARATORS = re.compile(r"\s*(?:&&|\|\||;)\s*")


def commands(line: str) -> list[list[str]]:
    """Simple commands of a RUN line as argument lists (quotes honoured where possible)."""
    result = []
    for part in _SEPARATORS.split(line.replace("\\\n", " ")):
        part = part.strip()
        if not part:
            continue
        try:
            words = shlex.split(part, posix=True)
        except ValueError:
            words = part.split()
        if words:
            result.append(words)
    return result


def program(words: list[str]) -> str:
    """The program a simple command runs (skipping `env X=1`, `sudo`, leading assignments)."""
    for word in words:
        if "=" in word and not word.startswith("-"):
            continue
        if word in ("sudo", "env", "command", "exec"):
            continue
        return word.rsplit("/", 1)[-1]
    return ""
