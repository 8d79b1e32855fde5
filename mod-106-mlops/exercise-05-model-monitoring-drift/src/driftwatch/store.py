"""driftwatch's state on disk: the reference, one JSON per window result, the decision log.

Every write is atomic (temp file + rename, `aiinfra_shared.io`): a crash leaves the old file
or the new one, never half of either. Layout under `home`:

    reference/profile.json  reference/reference.parquet
    results/<model>/<window>.json
    audit/decisions.jsonl
    workspace/ (Evidently)   reports/<window>/*.html
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
from aiinfra_shared.io import atomic_write_bytes, atomic_write_text

from driftwatch.analysis import WindowResult
from driftwatch.errors import BadValuesError, NotFoundError
from driftwatch.policy import Decision
from driftwatch.reference import ReferenceProfile, content_hash


def _safe(name: str) -> str:
    return name.replace(":", "-").replace("/", "_")


class Store:
    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    # ---------------------------------------------------------------- reference
    @property
    def reference_dir(self) -> Path:
        return self.home / "reference"

    def save_reference(self, profile: ReferenceProfile) -> Path:
        buffer = io.BytesIO()
        profile.data.to_parquet(buffer, index=False)
        atomic_write_bytes(self.reference_dir / "reference.parquet", buffer.getvalue())
        summary = {**profile.summary(), "content_hash": profile.content_hash}
        path = self.reference_dir / "profile.json"
        atomic_write_text(path, json.dumps(summary, indent=2, sort_keys=True) + "\n")
        return path

    def load_reference(self) -> ReferenceProfile:
        path = self.reference_dir / "profile.json"
        if not path.is_file():
            raise NotFoundError(f"no reference profile in {self.reference_dir} "
                                "(run: driftwatch reference build)")
        summary = json.loads(path.read_text())
        stored = summary.pop("content_hash")
        data = pd.read_parquet(self.reference_dir / "reference.parquet")
        actual = content_hash(summary, data)
        if actual != stored:
            raise BadValuesError(f"{self.reference_dir}: content hash mismatch (stored "
                                 f"{stored[:19]}, actual {actual[:19]}): rebuild the reference")
        profile = ReferenceProfile.from_summary(summary, data)
        profile.content_hash = stored
        return profile

    # ---------------------------------------------------------------- window results
    def results_dir(self, model: str) -> Path:
        return self.home / "results" / _safe(model)

    def save_result(self, result: WindowResult) -> Path:
        path = self.results_dir(result.model) / f"{_safe(result.window_id)}.json"
        atomic_write_text(path, json.dumps(result.as_dict(), indent=2, default=float) + "\n")
        return path

    def results(self, model: str) -> list[WindowResult]:
        folder = self.results_dir(model)
        items = [WindowResult.from_dict(json.loads(p.read_text()))
                 for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
        return sorted(items, key=lambda r: pd.Timestamp(r.start))

    # ---------------------------------------------------------------- decisions
    @property
    def audit_path(self) -> Path:
        return self.home / "audit" / "decisions.jsonl"

    def decisions(self) -> list[Decision]:
        if not self.audit_path.is_file():
            return []
        return [Decision.from_dict(json.loads(line))
                for line in self.audit_path.read_text().splitlines() if line.strip()]

    def append_decision(self, decision: Decision) -> None:
        """Append one line, rewriting the whole log atomically (it stays small)."""
        old = self.audit_path.read_text() if self.audit_path.is_file() else ""
        atomic_write_text(self.audit_path,
                          old + json.dumps(decision.as_dict(), sort_keys=True) + "\n")

    def report_dir(self, window_id: str) -> Path:
        return self.home / "reports" / _safe(window_id)
