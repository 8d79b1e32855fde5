"""State-bucket decisions, free of I/O: which version to roll back to, whether a lock is stuck.

Rolling back a bad apply = making the previous state version current again (a copy, so the
bad version stays in history and the rollback itself can be rolled back), then re-applying
the previous configuration against it. A lock is "stuck" when its holder is gone: it is old
and nothing renews S3 lock files, so age is the signal; a fresh lock is someone's running
apply and is never released without --force.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloudml.errors import ConflictError, InputError, MissingError


@dataclass(frozen=True)
class StateVersion:
    """One version of a state object in a versioned bucket."""

    version_id: str
    last_modified: datetime
    size: int
    is_latest: bool


@dataclass(frozen=True)
class LockInfo:
    """Terraform's lock file body (`<state key>.tflock`)."""

    id: str
    operation: str
    who: str
    created: datetime
    path: str

    def age(self, now: datetime) -> timedelta:
        return now - self.created


def rollback_version(versions: Sequence[StateVersion], version_id: str | None = None,
                     ) -> StateVersion:
    """The version to restore: `version_id`, else the newest one before the current."""
    # BEGIN SOLUTION: explicit id (not the latest), else the newest older version
    ordered = sorted(versions, key=lambda v: v.last_modified, reverse=True)
    if not ordered:
        raise MissingError("no state versions found: nothing to roll back")
    if version_id is not None:
        for version in ordered:
            if version.version_id == version_id:
                if version.is_latest:
                    raise ConflictError(f"version {version_id} is already the current state")
                return version
        raise MissingError(f"state version {version_id} does not exist")
    older = [v for v in ordered if not v.is_latest]
    if not older:
        raise MissingError("the state has a single version: there is nothing to roll back to")
    return older[0]
    # END SOLUTION


def parse_lock(body: bytes) -> LockInfo:
    """Parse a lock file; a corrupt one is an input error (release it with --force)."""
    try:
        data = json.loads(body)
        created = datetime.fromisoformat(str(data["Created"]).replace("Z", "+00:00"))
        return LockInfo(id=str(data["ID"]), operation=str(data.get("Operation", "")),
                        who=str(data.get("Who", "")), created=created,
                        path=str(data.get("Path", "")))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"the lock file is not terraform's format ({exc})") from exc


def check_release(lock: LockInfo, *, now: datetime, stale_after: timedelta, force: bool,
                  lock_id: str | None = None) -> None:
    """Allow releasing a lock only when it is stale (or forced), and the id matches if given."""
    # BEGIN SOLUTION: other id or a fresh lock without force: ConflictError
    if lock_id is not None and lock_id != lock.id:
        raise ConflictError(f"the lock is {lock.id}, not {lock_id}: someone else holds it now")
    age = lock.age(now)
    if not force and age < stale_after:
        raise ConflictError(
            f"the lock {lock.id} is held by {lock.who} ({lock.operation}) since "
            f"{age.total_seconds():.0f}s: it may be a running apply; wait, or pass --force")
    # END SOLUTION
