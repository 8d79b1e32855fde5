"""Run records on disk (JSON, atomic writes): what replication and retention did and when.

The exporter reads them to publish lag, failures and retention actions, so they survive the
CLI process that produced them. `first_seen.json` ({registry: {repository: {digest: epoch
seconds}}}) is when regman first saw each manifest (a scan, or a registry push notification):
the retention grace window counts from it when the registry cannot say when it was pushed.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise read-modify-write of first_seen.json (planner vs notification listener)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / ".first_seen.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def first_seen(self, registry: str) -> dict[str, dict[str, float]]:
        entry = self._read("first_seen.json").get(registry, {})
        return entry if isinstance(entry, dict) else {}

    def record_first_seen(self, registry: str,
                          seen: Iterable[tuple[str, str, float]]) -> dict[str, dict[str, float]]:
        """Record (repository, digest, when) sightings, keeping the EARLIEST per digest; returns
        the registry's first-seen map after the update."""
        # BEGIN SOLUTION: earliest sighting wins; write only when something changed
        with self._locked():
            data = self._read("first_seen.json")
            entry = data.setdefault(registry, {})
            changed = False
            for repository, digest, when in seen:
                digests = entry.setdefault(repository, {})
                if digest not in digests or when < float(digests[digest]):
                    digests[digest] = when
                    changed = True
            if changed:
                atomic_write_json(self.directory / "first_seen.json", data)
            result: dict[str, dict[str, float]] = entry
            return result
        # END SOLUTION
