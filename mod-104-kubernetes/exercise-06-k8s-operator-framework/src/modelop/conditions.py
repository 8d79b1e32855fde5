"""Status conditions (Ready, Progressing, Degraded) the way Kubernetes API conventions want
them: a reason in CamelCase, a message for people, `observedGeneration`, and a
`lastTransitionTime` that moves only when the status flips (so an unchanged object's status
is byte-for-byte the same and needs no write)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"


@dataclass(frozen=True)
class Condition:
    type: str
    status: bool
    reason: str
    message: str = ""


def now_rfc3339() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_conditions(previous: Iterable[Mapping[str, Any]] | None,
                     wanted: Iterable[Condition], generation: int,
                     now: str | None = None) -> list[dict[str, Any]]:
    """The conditions list to store: `lastTransitionTime` kept unless `status` changed."""
    # BEGIN SOLUTION: keep lastTransitionTime while status is unchanged; stamp observedGeneration
    before = {c.get("type"): c for c in (previous or [])}
    stamp = now or now_rfc3339()
    merged = []
    for cond in wanted:
        status = "True" if cond.status else "False"
        old = before.get(cond.type)
        changed_at = old.get("lastTransitionTime") if old and old.get("status") == status \
            else None
        merged.append({"type": cond.type, "status": status, "reason": cond.reason,
                       "message": cond.message, "observedGeneration": generation,
                       "lastTransitionTime": changed_at or stamp})
    return merged
    # END SOLUTION


def deployment_ready(live: Mapping[str, Any] | None, wanted: int) -> tuple[bool, str]:
    """Whether a Deployment has rolled out its current spec with `wanted` ready pods."""
    if live is None:
        return False, "Deployment missing"
    status = live.get("status") or {}
    generation = (live.get("metadata") or {}).get("generation") or 0
    if int(status.get("observedGeneration") or 0) < int(generation):
        return False, "Deployment spec not yet observed by its controller"
    ready = int(status.get("readyReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    if updated < wanted:
        return False, f"{updated}/{wanted} pods updated"
    if ready < wanted:
        return False, f"{ready}/{wanted} pods ready"
    return True, f"{ready}/{wanted} pods ready"
