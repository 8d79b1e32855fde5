"""The rules that keep an apply safe: only a saved, fresh plan; no prod delete by accident.

A saved plan is a promise about a specific state and a specific configuration. It is only
applied while (1) it is younger than the allowed age, (2) the configuration it was made from
is unchanged (digest of every .tf/.tfvars file of the root and its modules) and (3) the
state is the one it was planned against (serial and lineage). Terraform refuses (3) too, but
only after loading providers and taking the lock; checking first gives a clear message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cloudml.errors import ConflictError, UsageError
from cloudml.layout import Target


@dataclass(frozen=True)
class PlanRecord:
    """Written next to a saved plan: what it was made from."""

    cloud: str
    env: str
    created_at: str  # ISO-8601, UTC
    config_digest: str
    state_serial: int | None  # None: no state yet (first apply)
    state_lineage: str | None
    destroy: bool
    destroys: int
    flagged: tuple[str, ...] = ()
    variables: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["flagged"] = list(self.flagged)
        data["variables"] = dict(self.variables)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanRecord:
        return cls(**{**data, "flagged": tuple(data.get("flagged", ())),
                      "variables": dict(data.get("variables", {}))})


def config_digest(files: Mapping[str, bytes]) -> str:
    """sha256 over (relative path, content) pairs in path order: renames count as changes."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def check_fresh(record: PlanRecord, target: Target, *, now: datetime, max_age: timedelta,
                config_digest_now: str, serial_now: int | None,
                lineage_now: str | None) -> None:
    """Raise ConflictError naming the first reason the saved plan must not be applied."""
    # BEGIN SOLUTION: wrong target, too old, config changed, state moved: ConflictError
    if (record.cloud, record.env) != (target.cloud, target.env):
        raise ConflictError(f"the saved plan is for {record.cloud}/{record.env}, not "
                            f"{target.label}: run `cloudml plan` for {target.label}")
    age = now - datetime.fromisoformat(record.created_at)
    if age > max_age:
        minutes = age.total_seconds() / 60
        raise ConflictError(f"the saved plan for {target.label} is stale ({minutes:.0f} min "
                            f"old, limit {max_age.total_seconds() / 60:.0f}): run "
                            "`cloudml plan` again")
    if record.config_digest != config_digest_now:
        raise ConflictError(f"the configuration of {target.label} changed since it was "
                            "planned: run `cloudml plan` again")
    if (record.state_serial, record.state_lineage) != (serial_now, lineage_now):
        raise ConflictError(f"the state of {target.label} changed since it was planned "
                            f"(serial {record.state_serial} -> {serial_now}): run "
                            "`cloudml plan` again")
    # END SOLUTION


def confirmation_phrase(target: Target) -> str:
    """What an operator must type to let a prod plan delete things."""
    return f"destroy {target.cloud}-{target.env}"


def check_destroy_allowed(target: Target, destroys: int, *, allow_destroy: bool,
                          confirmation: str | None) -> None:
    """Prod plans that delete or replace anything need `--allow-destroy` and the typed phrase.

    Other envs are free to delete: dev is meant to be torn down, and staging rehearses prod
    changes (including their deletes) so the prod review has no surprises.
    """
    # BEGIN SOLUTION: gate prod plans with destroys: allow_destroy, then the exact phrase
    if not target.is_prod or destroys == 0:
        return
    if not allow_destroy:
        raise UsageError(f"the plan deletes or replaces {destroys} resource(s) in "
                         f"{target.label}: pass --allow-destroy (nothing was applied)")
    phrase = confirmation_phrase(target)
    if (confirmation or "").strip() != phrase:
        raise UsageError(f"confirmation does not match: type {phrase!r} to delete in "
                         f"{target.label} (nothing was applied)")
    # END SOLUTION
