"""The on-disk layout every DAG and CLI command agrees on (one place, so nothing drifts)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PARTITION_RE = re.compile(r"^\d{8}T\d{6}Z$")


def partition_name(logical_date: datetime) -> str:
    """The partition of a data run: its logical date in UTC, e.g. `20260301T120000Z`.

    Names sort in time order, and a rerun of the same logical date rewrites its own partition.
    """
    return logical_date.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def safe_name(value: str) -> str:
    """Run ids contain ':' and '+': keep file names portable."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("_") or "run"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def arrived(self) -> Path:
        """Files claimed from incoming/ by the data DAG's asset watcher, one run each."""
        return self.root / "arrived"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def validated_root(self) -> Path:
        """Validated data, one partition per data-DAG logical date: `<partition>/data.csv`."""
        return self.root / "validated"

    def partition(self, name: str) -> Path:
        if not PARTITION_RE.match(name):
            raise ValueError(f"{name!r} is not a partition name (expected YYYYMMDDTHHMMSSZ)")
        return self.validated_root / name / "data.csv"

    def partitions(self) -> list[str]:
        """Complete partitions, oldest first (a partition exists once its data.csv does)."""
        # BEGIN SOLUTION: partition directories whose data.csv exists, sorted by name
        if not self.validated_root.is_dir():
            return []
        return sorted(p.name for p in self.validated_root.iterdir()
                      if PARTITION_RE.match(p.name) and (p / "data.csv").is_file())
        # END SOLUTION

    def latest_partition(self) -> str | None:
        found = self.partitions()
        return found[-1] if found else None

    @property
    def batches(self) -> Path:
        """Recent unlabelled data to score and to check for drift."""
        return self.root / "batches" / "current.csv"

    @property
    def registry(self) -> Path:
        return self.root / "registry"

    @property
    def predictions(self) -> Path:
        return self.root / "predictions"

    def run_dir(self, dag_id: str, run_id: str) -> Path:
        return self.root / "runs" / safe_name(dag_id) / safe_name(run_id)

    def ensure(self) -> Workspace:
        for path in (self.incoming, self.arrived, self.quarantine, self.validated_root,
                     self.batches.parent, self.registry, self.predictions):
            path.mkdir(parents=True, exist_ok=True)
        return self
