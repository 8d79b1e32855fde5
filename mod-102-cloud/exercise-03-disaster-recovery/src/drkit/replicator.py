"""Cross-region replication of buckets (artifacts, config, the backup repository).

moto stores an S3 replication configuration but copies nothing, so drkit does the copying
itself: every object whose latest version the destination has not seen is copied, its
SHA-256 checked after the upload, and the replication lag (age of the oldest version not
yet copied) is the artifact RPO. The state (key -> source version replicated) lives in
the destination bucket, so any drkit instance can resume.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from drkit.adapters.s3 import ObjectStore
from drkit.envelope import sha256_hex
from drkit.errors import IntegrityError, NotFoundError

STATE_KEY = ".drkit/replication-state.json"


@dataclass
class ReplicationReport:
    source: str
    destination: str
    copied: list[str] = field(default_factory=list)
    bytes_copied: int = 0
    pending_before: int = 0
    lag_before_s: float = 0.0
    lag_after_s: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "destination": self.destination,
                "copied": len(self.copied), "bytes_copied": self.bytes_copied,
                "pending_before": self.pending_before,
                "lag_before_s": round(self.lag_before_s, 3),
                "lag_after_s": round(self.lag_after_s, 3)}


def load_state(destination: ObjectStore) -> dict[str, str]:
    try:
        return dict(json.loads(destination.get(STATE_KEY)))
    except NotFoundError:
        return {}


def pending_versions(source: ObjectStore, state: dict[str, str]
                     ) -> list[tuple[str, str, datetime]]:
    """(key, version id, last modified) of latest versions not yet replicated, oldest first."""
    latest = [v for v in source.versions() if v.is_latest and not v.key.startswith(".drkit/")]
    return sorted(((v.key, v.version_id, v.last_modified) for v in latest
                   if state.get(v.key) != v.version_id), key=lambda item: item[2])


def lag_seconds(pending: list[tuple[str, str, datetime]], now: datetime) -> float:
    return max(0.0, (now - pending[0][2]).total_seconds()) if pending else 0.0


def replicate(source: ObjectStore, destination: ObjectStore,
              now: datetime | None = None) -> ReplicationReport:
    """Copy what is pending; verify each copy's checksum by reading it back."""
    state = load_state(destination)
    pending = pending_versions(source, state)
    report = ReplicationReport(source.label, destination.label, pending_before=len(pending),
                               lag_before_s=lag_seconds(pending, now or datetime.now(UTC)))
    # BEGIN SOLUTION: copy each pending version, read it back and compare, record the state
    for key, version_id, _ in pending:
        data = source.get(key, version_id)
        digest = sha256_hex(data)
        expected = source.head(key, version_id).sha256
        if expected and expected != digest:
            raise IntegrityError(f"{source.label}/{key}: source object does not match its "
                                 "recorded sha256")
        destination.put(key, data, digest, {"source-version": version_id})
        if sha256_hex(destination.get(key)) != digest:
            raise IntegrityError(f"{destination.label}/{key}: copy does not match its checksum")
        state[key] = version_id
        report.copied.append(key)
        report.bytes_copied += len(data)
    destination.put(STATE_KEY, json.dumps(state, sort_keys=True).encode())
    # END SOLUTION
    report.lag_after_s = lag_seconds(pending_versions(source, state), now or datetime.now(UTC))
    return report
