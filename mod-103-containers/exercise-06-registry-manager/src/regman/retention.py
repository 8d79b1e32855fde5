"""Retention: decide, with a reason per digest, what to delete; then delete it safely.

Planning is pure (inventory in, decisions out) so it is unit-tested and benchmarked without a
registry. Rules, evaluated per manifest digest (the registry deletes by digest, removing all
of its tags, so a digest goes only when nothing keeps ANY of its tags):

  keep  grace-window      pushed (or built), or first seen by regman, within
                          `grace_period_hours` -- never delete fresh
  keep  age-unknown       no push or build time known: not safe to judge
  keep  protected         a tag matches a `protect` glob (e.g. prod-*)
  keep  keep-tags         a tag matches a `keep_tags` regex
  keep  signed            `keep_signed` and a signature the signing policy's keys verify
  keep  keep-last         among the newest `keep_last` tagged images of the repository
  keep  no-rule           no rule of the repository allows deleting it
  del   keep-last         tagged, older than the newest `keep_last`
  del   untagged-age      untagged and older than `untagged_older_than_days`
then references win over deletions:
  keep  referenced        a kept index points to it
  keep  signature         signature of a kept image (always kept with it)
  del   child-of-deleted  only reachable through an index being deleted
  del   orphan-signature  signature whose image is deleted or gone
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from aiinfra_shared.io import atomic_write_json
from pydantic import BaseModel, ConfigDict, Field, field_validator

from regman.adapters.registry import RegistryClient
from regman.errors import NotFoundInRegistryError, PolicyError
from regman.inventory import ManifestRecord, RepositoryInventory, matches_any
from regman.policyfile import load_model
from regman.signing import SignatureVerifier
from regman.signing import load_policy as load_signing_policy


class RetentionRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repositories: str = Field(description="glob over repository names, e.g. 'apps/*'")
    keep_last: int | None = Field(default=None, ge=0)
    keep_tags: list[str] = Field(default_factory=list, description="regexes (full match)")
    protect: list[str] = Field(default_factory=list, description="tag globs never deleted")
    untagged_older_than_days: float | None = Field(default=None, ge=0)

    @field_validator("keep_tags")
    @classmethod
    def _regexes_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regex {pattern!r}: {exc}") from exc
        return value


class RetentionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_period_hours: float = Field(default=24.0, ge=0)
    keep_signed: bool = True
    signing_policy: Path | None = Field(
        default=None, description="signing policy YAML (relative to this file) whose keys "
        "must verify a signature for keep_signed to keep the image")
    rules: list[RetentionRule] = Field(min_length=1)

    def rule_for(self, repository: str) -> RetentionRule | None:
        return next((r for r in self.rules if matches_any(repository, [r.repositories])), None)


def load_policy(path: Path) -> RetentionPolicy:
    policy = load_model(path, RetentionPolicy)
    if policy.signing_policy is not None:
        policy.signing_policy = path.parent / policy.signing_policy
    return policy


def signature_verifier(policy: RetentionPolicy, source: Path) -> SignatureVerifier | None:
    """The verifier `keep_signed` needs; a config error when no signing policy is named."""
    if not policy.keep_signed:
        return None
    if policy.signing_policy is None:
        raise PolicyError(f"{source}: keep_signed needs signing_policy (the signing policy "
                          "whose keys make a signature count), or set keep_signed: false")
    return SignatureVerifier(load_signing_policy(policy.signing_policy))


Action = Literal["keep", "delete"]


@dataclass
class Decision:
    repository: str
    digest: str
    tags: list[str]
    action: Action
    rule: str
    reason: str
    size: int = 0
    timestamp: datetime | None = None
    kind: str = "image"
    children: list[str] = field(default_factory=list)  # manifests of an index
    signature_of: str | None = None  # the image a signature manifest signs

    def to_json(self) -> dict[str, object]:
        return {"repository": self.repository, "digest": self.digest, "tags": self.tags,
                "action": self.action, "rule": self.rule, "reason": self.reason,
                "size": self.size, "kind": self.kind,
                "timestamp": self.timestamp.isoformat() if self.timestamp else None,
                "children": self.children, "signature_of": self.signature_of}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        """Read back one decision of a saved plan; KeyError/TypeError/ValueError if bad."""
        if data["action"] not in ("keep", "delete") or not str(data["digest"]).startswith(
                "sha256:"):
            raise ValueError(f"bad decision {data.get('digest')!r}")
        stamp = data.get("timestamp")
        return cls(str(data["repository"]), str(data["digest"]),
                   [str(t) for t in data["tags"]], data["action"], str(data["rule"]),
                   str(data["reason"]), int(data.get("size", 0)),
                   datetime.fromisoformat(stamp) if stamp else None,
                   str(data.get("kind", "image")), [str(c) for c in data.get("children", [])],
                   data.get("signature_of"))


@dataclass
class Plan:
    decisions: list[Decision] = field(default_factory=list)
    reclaimable_bytes: int = 0  # unique blobs only deleted manifests use (an estimate)

    @property
    def deletions(self) -> list[Decision]:
        return [d for d in self.decisions if d.action == "delete"]

    def to_json(self) -> dict[str, object]:
        return {"decisions": [d.to_json() for d in self.decisions],
                "delete_count": len(self.deletions),
                "reclaimable_bytes": self.reclaimable_bytes}

    def save(self, path: Path, registry_url: str, policy: Path) -> None:
        """Write the plan for `retention apply` (atomically: never a half-written plan)."""
        atomic_write_json(path, {"format": PLAN_FORMAT, "registry_url": registry_url,
                                 "policy": str(policy),
                                 "planned_at": datetime.now(UTC).isoformat(),
                                 **self.to_json()})


PLAN_FORMAT = "regman-retention-plan/v1"


def load_saved_plan(path: Path) -> tuple[Plan, str]:
    """(plan, registry URL) from a file `retention plan --out` wrote; PolicyError if not."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read ({exc.strerror})") from exc
    except ValueError as exc:
        raise PolicyError(f"{path}: not a saved regman retention plan (invalid JSON)") from exc
    try:
        if data.get("format") != PLAN_FORMAT:
            raise ValueError(f"format is not {PLAN_FORMAT!r}")
        decisions = [Decision.from_json(d) for d in data["decisions"]]
        registry_url = str(data["registry_url"])
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{path}: not a saved regman retention plan "
                          "(write one with `regman retention plan --out`)") from exc
    return Plan(decisions, int(data.get("reclaimable_bytes", 0))), registry_url


def _kind(record: ManifestRecord) -> str:
    if record.signature_of:
        return "signature"
    return "index" if record.children else "image"


def _age_text(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f}d" if hours >= 48 else f"{hours:.1f}h"


def plan_repository(inventory: RepositoryInventory, policy: RetentionPolicy,
                    now: datetime) -> list[Decision]:
    # BEGIN SOLUTION: _primary per digest, then index children and signatures follow
    rule = policy.rule_for(inventory.repository)
    grace = timedelta(hours=policy.grace_period_hours)
    signed = inventory.signed_digests()
    records = inventory.manifests
    decided: dict[str, tuple[Action, str, str]] = {}

    tagged = sorted((r for r in inventory.tagged()),
                    key=lambda r: r.timestamp or datetime.max.replace(tzinfo=UTC), reverse=True)
    rank = {r.digest: i for i, r in enumerate(tagged)}
    referenced = {c for r in records.values() for c in r.children}

    for record in records.values():
        if record.signature_of:
            continue  # decided after the images they sign
        if not record.tags and record.digest in referenced:
            continue  # decided with its index
        decided[record.digest] = _primary(record, rule, policy, grace, signed, rank, now)

    # References: a kept index keeps its children; a deleted index takes unreferenced ones.
    for record in records.values():
        if not record.children:
            continue
        parent_action = decided.get(record.digest, ("keep", "", ""))[0]
        for child in record.children:
            if child not in records:
                continue
            current = decided.get(child)
            if parent_action == "keep":
                if current is None or current[0] == "delete":
                    decided[child] = ("keep", "referenced",
                                      f"referenced by kept index {record.digest[:19]}")
            elif current is None:
                decided[child] = ("delete", "child-of-deleted",
                                  f"only referenced by deleted index {record.digest[:19]}")

    for record in records.values():
        if not record.signature_of:
            continue
        subject = decided.get(record.signature_of)
        if subject is None:
            decided[record.digest] = ("delete", "orphan-signature",
                                      f"signed image {record.signature_of[:19]} no longer exists")
        elif subject[0] == "keep":
            decided[record.digest] = ("keep", "signature", "signature of a kept image")
        else:
            decided[record.digest] = ("delete", "orphan-signature",
                                      "its image is being deleted")

    return [Decision(inventory.repository, digest, sorted(records[digest].tags), action, name,
                     reason, records[digest].size, records[digest].timestamp,
                     _kind(records[digest]), list(records[digest].children),
                     records[digest].signature_of)
            for digest, (action, name, reason) in decided.items()]
    # END SOLUTION


def _primary(record: ManifestRecord, rule: RetentionRule | None, policy: RetentionPolicy,
             grace: timedelta, signed: set[str], rank: dict[str, int],
             now: datetime) -> tuple[Action, str, str]:
    # BEGIN SOLUTION: grace, age-unknown, protect, keep_tags, signed, keep_last, untagged-age
    # Without the registry's own push time, regman's first sighting (a scan or a push
    # notification) bounds the arrival: an old build replicated in just now is fresh.
    if record.pushed is None and record.first_seen is not None and \
            now - record.first_seen < grace:
        return ("keep", "grace-window",
                f"first seen by regman {_age_text(now - record.first_seen)} ago, inside the "
                f"{policy.grace_period_hours:g}h grace")
    stamp = record.timestamp
    if stamp is None:
        return ("keep", "age-unknown", "no push or build time known")
    age = now - stamp
    if age < grace:
        return ("keep", "grace-window",
                f"pushed {_age_text(age)} ago, inside the {policy.grace_period_hours:g}h grace")
    if rule is None:
        return ("keep", "no-rule", "no retention rule matches the repository")
    for tag in record.tags:
        for pattern in rule.protect:
            if matches_any(tag, [pattern]):
                return ("keep", "protected", f"tag {tag} matches protected {pattern!r}")
        for regex in rule.keep_tags:
            if re.fullmatch(regex, tag):
                return ("keep", "keep-tags", f"tag {tag} matches {regex!r}")
    if policy.keep_signed and record.digest in signed:
        return ("keep", "signed", "signature verified by the signing policy (keep_signed)")
    if record.tags:
        if rule.keep_last is None:
            return ("keep", "no-rule", "rule has no keep_last")
        position = rank.get(record.digest, 0)
        if position < rule.keep_last:
            return ("keep", "keep-last", f"#{position + 1} newest of {rule.keep_last} kept")
        return ("delete", "keep-last",
                f"#{position + 1} newest, beyond keep_last={rule.keep_last} "
                f"(age {_age_text(age)})")
    if rule.untagged_older_than_days is not None and \
            age > timedelta(days=rule.untagged_older_than_days):
        return ("delete", "untagged-age",
                f"untagged for {_age_text(age)} > {rule.untagged_older_than_days:g}d")
    return ("keep", "no-rule", "untagged, but no untagged rule allows deleting it")
    # END SOLUTION


def plan(inventories: list[RepositoryInventory], policy: RetentionPolicy,
         now: datetime | None = None) -> Plan:
    # BEGIN SOLUTION: plan each repository; reclaimable = blobs no kept manifest uses
    now = now or datetime.now(UTC)
    result = Plan()
    kept_blobs: set[str] = set()
    deleted_blobs: dict[str, int] = {}
    for inventory in inventories:
        decisions = plan_repository(inventory, policy, now)
        result.decisions.extend(decisions)
        for decision in decisions:
            record = inventory.manifests[decision.digest]
            if decision.action == "keep":
                kept_blobs.update(record.blobs)
            else:
                deleted_blobs.update(record.blobs)
                deleted_blobs[record.digest] = record.manifest_size
    result.reclaimable_bytes = sum(size for digest, size in deleted_blobs.items()
                                   if digest not in kept_blobs)
    order = {"delete": 0, "keep": 1}
    result.decisions.sort(key=lambda d: (order[d.action], d.repository, d.tags, d.digest))
    return result
    # END SOLUTION


_DELETE_ORDER = {"index": 0, "image": 1, "signature": 2}


@dataclass
class ApplyResult:
    deleted: list[Decision] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def apply_plan(client: RegistryClient, result: Plan,
               progress: Callable[[int], None] | None = None) -> ApplyResult:
    """Delete the plan's deletions: indexes before their children, signatures last.

    Every digest is re-checked first: deleting a digest removes every tag pointing at it, so
    the repository's tags are resolved again and a digest that gained a tag since planning
    (someone pushed or re-tagged) is skipped. What a skipped digest needs stays too: the
    children of a skipped index and the signatures of a skipped image.
    """
    # BEGIN SOLUTION: re-check tags, skip what a skipped digest needs, then delete in order
    outcome = ApplyResult()
    deletions = result.deletions
    current: dict[str, dict[str, set[str]]] = {}  # repo -> digest -> tags, resolved lazily
    skip: dict[tuple[str, str], str] = {}
    for decision in deletions:
        if decision.repository not in current:
            current[decision.repository] = _resolve_tags(client, decision.repository)
        now_tags = current[decision.repository].get(decision.digest, set())
        new_tags = sorted(now_tags - set(decision.tags))
        if new_tags:
            skip[(decision.repository, decision.digest)] = (
                f"gained tag(s) {', '.join(new_tags)} since planning")
    changed = True
    while changed:  # children and signatures of anything skipped stay with it
        changed = False
        for decision in deletions:
            here = (decision.repository, decision.digest)
            if here in skip:
                continue
            parent = next((p for p in deletions if (p.repository, p.digest) in skip
                           and p.repository == decision.repository
                           and decision.digest in p.children), None)
            if parent is not None:
                skip[here] = f"child of skipped index {parent.digest[:19]}"
            elif decision.signature_of and (decision.repository,
                                            decision.signature_of) in skip:
                skip[here] = f"signature of skipped image {decision.signature_of[:19]}"
            else:
                continue
            changed = True
    for decision in sorted(deletions, key=lambda d: _DELETE_ORDER.get(d.kind, 9)):
        reason = skip.get((decision.repository, decision.digest))
        if reason:
            outcome.skipped.append(f"{decision.repository}@{decision.digest}: {reason}")
            continue
        try:
            client.delete_manifest(decision.repository, decision.digest)
        except NotFoundInRegistryError:
            outcome.skipped.append(f"{decision.repository}@{decision.digest}: already gone")
            continue
        outcome.deleted.append(decision)
        if progress:
            progress(1)
    return outcome
    # END SOLUTION


def _resolve_tags(client: RegistryClient, repository: str) -> dict[str, set[str]]:
    by_digest: dict[str, set[str]] = {}
    try:
        tags = client.tags(repository)
    except NotFoundInRegistryError:
        return by_digest
    for tag in tags:
        digest = client.head_manifest(repository, tag)
        if digest:
            by_digest.setdefault(digest, set()).add(tag)
    return by_digest
