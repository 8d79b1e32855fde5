"""Drift: what changed outside Terraform, from `plan -refresh-only -detailed-exitcode`.

Terraform's exit code says whether something may have drifted (0 none, 2 maybe, 1 error); the
plan JSON's `resource_drift` says what. Terraform 1.11 exits 2 on a refresh-only plan even when
it prints "No changes", so the report, not the exit code, decides. The report names each
drifted resource and the attributes that differ, so the on-call engineer can decide: re-apply
(revert the hand edit) or import it into the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EXIT_NO_DRIFT, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2


def _empty(value: Any) -> bool:
    """null, "", [] and {} are the same thing to a cloud API read back by a provider."""
    return value is None or value == "" or value == [] or value == {}


@dataclass(frozen=True)
class Drifted:
    address: str
    action: str  # update (changed outside) or delete (gone outside)
    attributes: tuple[str, ...]


@dataclass
class DriftReport:
    drifted: list[Drifted] = field(default_factory=list)

    @property
    def has_drift(self) -> bool:
        return bool(self.drifted)

    def as_dict(self) -> dict[str, Any]:
        return {"drift": self.has_drift,
                "resources": [{"address": d.address, "action": d.action,
                               "attributes": list(d.attributes)} for d in self.drifted]}


def changed_attributes(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves that differ between two attribute trees (sorted).

    Lists of maps recurse by index (`tags_all.team`, `ingress.0.cidr_blocks`); a value that
    appears on one side only counts as changed; null versus an empty value does not.
    """
    # BEGIN SOLUTION: recurse dicts and equal-length lists; differing leaves as dotted paths
    if _empty(before) and _empty(after):
        return []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        paths: list[str] = []
        for key in sorted(set(before) | set(after)):
            paths += changed_attributes(before.get(key), after.get(key), f"{prefix}{key}.")
        return paths
    if (isinstance(before, list) and isinstance(after, list) and len(before) == len(after)
            and before != after):
        paths = []
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            paths += changed_attributes(b, a, f"{prefix}{index}.")
        return paths
    return [] if before == after else [prefix.rstrip(".")]
    # END SOLUTION


def drift_report(plan: Mapping[str, Any]) -> DriftReport:
    """Build the report from a refresh-only plan's `resource_drift` entries."""
    report = DriftReport()
    for entry in plan.get("resource_drift") or []:
        if entry.get("mode", "managed") != "managed":
            continue
        change = entry.get("change", {})
        actions = set(change.get("actions", []))
        action = "delete" if actions == {"delete"} else "update"
        attrs = () if action == "delete" else tuple(
            changed_attributes(change.get("before"), change.get("after")))
        report.drifted.append(Drifted(entry["address"], action, attrs))
    return report


def exit_meaning(code: int) -> str:
    """Terraform's -detailed-exitcode in words (for error messages)."""
    return {EXIT_NO_DRIFT: "no drift", EXIT_DRIFT: "drift", EXIT_ERROR: "error"}.get(
        code, f"unexpected exit code {code}")
