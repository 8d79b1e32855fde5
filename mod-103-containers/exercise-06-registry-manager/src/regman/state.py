"""Run records on disk (JSON, atomic writes): what replication and retention did and when.

The exporter reads them to publish lag, failures and retention actions, so they survive the
CLI process that produced them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json


class StateStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _read(self, name: str) -> dict[str, Any]:
        path = self.directory / name
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def replication(self) -> dict[str, dict[str, Any]]:
        return self._read("replication.json")

    def update_replication(self, rule: str, record: dict[str, Any]) -> None:
        data = self.replication()
        previous = data.get(rule, {})
        merged = {**previous, **record}
        merged["failures_total"] = int(previous.get("failures_total", 0)) + int(
            record.get("failures", 0))
        merged["bytes_total"] = int(previous.get("bytes_total", 0)) + int(
            record.get("bytes_uploaded", 0))
        data[rule] = merged
        atomic_write_json(self.directory / "replication.json", data)

    def retention(self) -> dict[str, Any]:
        return self._read("retention.json")

    def record_retention(self, registry: str, deleted: int, bytes_freed: int,
                         when: float) -> None:
        data = self.retention()
        entry = data.setdefault(registry, {"deleted_total": 0, "bytes_freed_total": 0,
                                           "runs_total": 0})
        entry["deleted_total"] += deleted
        entry["bytes_freed_total"] += bytes_freed
        entry["runs_total"] += 1
        entry["last_run"] = when
        atomic_write_json(self.directory / "retention.json", data)
