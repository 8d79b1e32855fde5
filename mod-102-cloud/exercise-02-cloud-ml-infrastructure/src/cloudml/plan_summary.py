"""Read `terraform show -json <plan>` and say what a reviewer must look at (Atlantis-style).

Counts per action, and a flag on every delete or replacement of a resource whose loss loses
data or access: buckets, keys, databases, registries, vaults. Those are what a "small" plan
can hide in its 40th line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# Losing one of these loses data (buckets, databases), the ability to read data (keys,
# vaults) or every pushed image (registries).
CRITICAL_TYPES = frozenset({
    "aws_s3_bucket", "aws_kms_key", "aws_db_instance", "aws_rds_cluster",
    "aws_dynamodb_table", "aws_ecr_repository", "aws_efs_file_system",
    "google_storage_bucket", "google_kms_crypto_key", "google_kms_key_ring",
    "google_sql_database_instance", "google_artifact_registry_repository",
    "azurerm_storage_account", "azurerm_storage_container", "azurerm_key_vault",
    "azurerm_key_vault_key", "azurerm_container_registry", "azurerm_mssql_database",
    "azurerm_postgresql_flexible_server",
})


@dataclass(frozen=True)
class Change:
    """One managed resource's planned change."""

    address: str
    type: str
    action: str  # create, update, delete, replace, no-op
    critical: bool = False

    @property
    def destructive(self) -> bool:
        return self.action in {"delete", "replace"}


@dataclass
class PlanSummary:
    """What a plan will do, ready to print or to gate an apply on."""

    counts: dict[str, int] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    output_changes: dict[str, str] = field(default_factory=dict)
    errored: bool = False

    @property
    def flagged(self) -> list[Change]:
        """Deletes and replacements of critical resources: need a second look."""
        return [c for c in self.changes if c.critical and c.destructive]

    @property
    def destroys(self) -> int:
        """Resources that will stop existing (deleted, or deleted first when replaced)."""
        return self.counts.get("delete", 0) + self.counts.get("replace", 0)

    @property
    def has_changes(self) -> bool:
        return any(self.counts.get(a, 0) for a in ("create", "update", "delete", "replace"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "changes": [c.__dict__ for c in self.changes if c.action != "no-op"],
            "flagged": [c.address for c in self.flagged],
            "output_changes": dict(self.output_changes),
        }


def classify(actions: list[str]) -> str:
    """Terraform's action list -> one word. `["delete", "create"]` (and the reverse, for
    create_before_destroy) is a replacement; `["read"]` and `["no-op"]` change nothing."""
    # BEGIN SOLUTION: map the action list to create/update/delete/replace/no-op
    kinds = set(actions)
    if kinds == {"delete", "create"}:
        return "replace"
    if kinds == {"create"}:
        return "create"
    if kinds == {"delete"}:
        return "delete"
    if kinds == {"update"}:
        return "update"
    return "no-op"
    # END SOLUTION


def summarize_plan(plan: Mapping[str, Any]) -> PlanSummary:
    """Digest a plan document (managed resources only; data reads are not changes)."""
    # BEGIN SOLUTION: classify managed changes, count, mark critical, collect outputs
    summary = PlanSummary(counts={a: 0 for a in ("create", "update", "delete", "replace",
                                                 "no-op")},
                          errored=bool(plan.get("errored")))
    for rc in plan.get("resource_changes") or []:
        if rc.get("mode", "managed") != "managed":
            continue
        action = classify(list(rc.get("change", {}).get("actions", [])))
        summary.counts[action] += 1
        summary.changes.append(Change(address=rc["address"], type=rc["type"], action=action,
                                      critical=rc["type"] in CRITICAL_TYPES))
    for name, oc in (plan.get("output_changes") or {}).items():
        action = classify(list(oc.get("actions", [])))
        if action != "no-op":
            summary.output_changes[name] = action
    return summary
    # END SOLUTION


def render(summary: PlanSummary, label: str, max_creates: int = 12) -> Iterator[str]:
    """Human-readable lines: the totals, flags first, then every change; a long list of
    creates (a first apply) is folded into one line: the risk is in updates and deletes."""
    c = summary.counts
    yield (f"{label}: {c.get('create', 0)} to create, {c.get('update', 0)} to update, "
           f"{c.get('replace', 0)} to replace, {c.get('delete', 0)} to delete")
    for change in summary.flagged:
        yield f"  !! {change.action.upper():8} {change.address}  (critical: {change.type})"
    symbols = {"create": "+", "update": "~", "replace": "-/+", "delete": "-"}
    creates = c.get("create", 0)
    for change in summary.changes:
        if change.action == "create" and creates > max_creates:
            continue
        if change.action in symbols and change not in summary.flagged:
            yield f"  {symbols[change.action]:>3} {change.address}"
    if creates > max_creates:
        yield f"    + {creates} new resources (--json lists them)"
    if not summary.has_changes:
        yield "  no changes: infrastructure matches the configuration"
