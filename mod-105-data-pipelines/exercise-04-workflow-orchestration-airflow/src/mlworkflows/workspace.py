"""The on-disk layout every DAG and CLI command agrees on (one place, so nothing drifts)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


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
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def validated(self) -> Path:
        """The latest validated dataset: what the `validated_data` asset points at."""
        return self.root / "validated" / "current.csv"

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
        for path in (self.incoming, self.quarantine, self.validated.parent, self.batches.parent,
                     self.registry, self.predictions):
            path.mkdir(parents=True, exist_ok=True)
        return self
