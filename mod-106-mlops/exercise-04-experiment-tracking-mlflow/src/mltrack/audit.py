"""Append-only audit log of promotion decisions (JSON Lines).

Each decision is one line written with O_APPEND and fsync'd, so concurrent writers never
interleave partial records and a crash loses at most the line being written. Nothing here
rewrites or truncates the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, record: dict[str, Any]) -> None:
        # BEGIN SOLUTION: one JSON line per record, O_APPEND and fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        # END SOLUTION

    def read(self, model: str | None = None) -> list[dict[str, Any]]:
        """Every record (optionally for one model), oldest first; skips a torn last line."""
        # BEGIN SOLUTION: parse lines, skip torn ones, filter by model
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if model is None or record.get("model") == model:
                records.append(record)
        return records
        # END SOLUTION
