"""Audit records of promotion decisions: on the tracking server, plus a local copy.

The record of truth is on the tracking server, so every client sees the same history: one
registered-model tag per record, `mltrack.audit.<nanoseconds>-<random>` (keys sort in time
order, and two clients writing at once never pick the same key). `server_tag` and
`records_from_tags` encode and decode them; `mltrack audit` reads them.

Each client also keeps an append-only local copy (JSON Lines, `mltrack audit --local`): each
record is one line written with O_APPEND and fsync'd, so concurrent writers never interleave
partial records and a crash loses at most the line being written. Nothing here rewrites or
truncates the file.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

TAG_PREFIX = "mltrack.audit."


def server_tag(record: dict[str, Any]) -> tuple[str, str]:
    """The (key, value) of the registered-model tag that stores `record`."""
    # BEGIN SOLUTION: time-ordered unique key, JSON value
    key = f"{TAG_PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    return key, json.dumps(record, sort_keys=True, default=str)
    # END SOLUTION


def records_from_tags(tags: dict[str, str]) -> list[dict[str, Any]]:
    """Decode the audit tags of a registered model, oldest first (skips undecodable ones)."""
    # BEGIN SOLUTION: the mltrack.audit.* tags, ordered by key
    records = []
    for key in sorted(k for k in tags if k.startswith(TAG_PREFIX)):
        try:
            record = json.loads(tags[key])
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
    # END SOLUTION


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
