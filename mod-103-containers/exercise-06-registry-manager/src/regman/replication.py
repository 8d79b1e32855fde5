"""Replication rules (Harbor-style push replication): source + repo glob + tag regex -> dest.

Incremental: each image is skipped when the destination tag already has the same digest, and
each blob when the destination HEAD says it exists, so a second run moves 0 blob bytes.
Digest-verified through `copy_image`. Signatures (`sha256-<hex>.sig`) travel with their image.
A failure on one image is recorded and the run continues; the destination tag of a failed
image is never written (manifests go last).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from regman.adapters.registry import RegistryClient
from regman.clients import credentials, docker_config_path, docker_credentials
from regman.config import Settings
from regman.copying import DEFAULT_JOBS, copy_image
from regman.errors import NotFoundInRegistryError, RegmanError
from regman.inventory import matches_any
from regman.policyfile import load_model
from regman.reference import Reference, host_of
from regman.signing import signature_tag, subject_of_signature_tag
from regman.state import StateStore


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    username: str | None = None
    password_env: str | None = Field(default=None,
                                     description="name of the env var holding the password")


class ReplicationRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    source: str
    destination: str
    repositories: str = "*"
    tags: str = ".*"
    destination_prefix: str = ""
    interval_seconds: float = Field(default=300.0, gt=0)
    signatures: bool = True

    @field_validator("tags")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex {value!r}: {exc}") from exc
        return value


class ReplicationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registries: dict[str, Endpoint]
    rules: list[ReplicationRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> ReplicationConfig:
        names = [r.name for r in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("rule names must be unique")
        for rule in self.rules:
            for side in (rule.source, rule.destination):
                if side not in self.registries:
                    raise ValueError(f"rule {rule.name}: unknown registry {side!r}")
        return self


def load_config(path: Path) -> ReplicationConfig:
    return load_model(path, ReplicationConfig)


def endpoint_client(endpoint: Endpoint, settings: Settings) -> RegistryClient:
    password = os.environ.get(endpoint.password_env, "") if endpoint.password_env else None
    login = credentials(endpoint.username, password) if endpoint.username else \
        docker_credentials(host_of(endpoint.url), docker_config_path(settings))
    return RegistryClient(endpoint.url, login,
                          timeout=settings.timeout, retries=settings.retries,
                          backoff=settings.backoff, chunk_size=settings.chunk_size)


@dataclass
class Item:
    source: Reference
    destination: Reference


def plan_items(src: RegistryClient, dst: RegistryClient, rule: ReplicationRule) -> list[Item]:
    """Every (source tag -> destination tag) the rule covers, signatures excluded."""
    # BEGIN SOLUTION: repos matching the glob, tags fully matching the regex, no .sig tags
    items = []
    tag_re = re.compile(rule.tags)
    for repository in sorted(src.catalog()):
        if not matches_any(repository, [rule.repositories]):
            continue
        try:
            tags = src.tags(repository)
        except NotFoundInRegistryError:
            continue
        for tag in sorted(tags):
            if subject_of_signature_tag(tag) or not tag_re.fullmatch(tag):
                continue
            items.append(Item(
                Reference(src.host, repository, tag),
                Reference(dst.host, rule.destination_prefix + repository, tag)))
    return items
    # END SOLUTION


@dataclass
class RuleRun:
    rule: str
    dry_run: bool = False
    images: int = 0
    copied: int = 0
    up_to_date: int = 0
    signatures_copied: int = 0
    bytes_uploaded: int = 0
    blobs_uploaded: int = 0
    blobs_present: int = 0
    failures: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def run_rule(src: RegistryClient, dst: RegistryClient, rule: ReplicationRule, *,
             dry_run: bool = False, progress: Callable[[int], None] | None = None,
             jobs: int = DEFAULT_JOBS) -> RuleRun:
    # BEGIN SOLUTION: copy each item (and its signature); count; record failures, go on
    run = RuleRun(rule=rule.name, dry_run=dry_run, started=time.time())
    items = plan_items(src, dst, rule)
    run.images = len(items)
    for item in items:
        try:
            result = copy_image(src, item.source, dst, item.destination, dry_run=dry_run,
                                jobs=jobs)
            if result.up_to_date:
                run.up_to_date += 1
            else:
                run.copied += 1
                run.actions.append(f"{item.source} -> {item.destination}")
            run.bytes_uploaded += result.bytes_uploaded
            run.blobs_uploaded += result.blobs_uploaded
            run.blobs_present += result.blobs_present
            if rule.signatures:
                run.signatures_copied += _copy_signature(src, dst, item, result.digest, run,
                                                         dry_run)
        except RegmanError as exc:
            run.failures.append(f"{item.source}: {exc.format_message()}")
        if progress:
            progress(1)
    run.finished = time.time()
    return run
    # END SOLUTION


def _copy_signature(src: RegistryClient, dst: RegistryClient, item: Item, digest: str,
                    run: RuleRun, dry_run: bool) -> int:
    tag = signature_tag(digest)
    if src.head_manifest(item.source.repository, tag) is None:
        return 0
    result = copy_image(src, item.source.with_tag(tag), dst, item.destination.with_tag(tag),
                        dry_run=dry_run)
    run.bytes_uploaded += result.bytes_uploaded
    return 0 if result.up_to_date else 1


def record_run(store: StateStore, run: RuleRun, pending_after: int | None) -> None:
    record: dict[str, Any] = {
        "last_run": run.finished, "failures": len(run.failures),
        "bytes_uploaded": run.bytes_uploaded, "last_images": run.images,
        "last_copied": run.copied, "last_errors": run.failures[-5:],
    }
    if not run.failures:
        record["last_success"] = run.finished
        if pending_after == 0:
            record["last_in_sync"] = run.finished
    store.update_replication(run.rule, record)


def pending(src: RegistryClient, dst: RegistryClient, rule: ReplicationRule) -> list[str]:
    """Source tags whose destination is missing or holds another digest."""
    out = []
    for item in plan_items(src, dst, rule):
        want = src.head_manifest(item.source.repository, item.source.identifier)
        have = dst.head_manifest(item.destination.repository, item.destination.identifier)
        if want != have:
            out.append(str(item.source))
    return out


def rule_status(src: RegistryClient, dst: RegistryClient, rule: ReplicationRule,
                store: StateStore, now: float | None = None) -> dict[str, Any]:
    """Lag = 0 when in sync, else seconds since the rule was last fully in sync."""
    # BEGIN SOLUTION: pending now; lag 0 in sync, else seconds since last_in_sync
    now = now or time.time()
    record = store.replication().get(rule.name, {})
    out_of_sync = pending(src, dst, rule)
    last_in_sync = record.get("last_in_sync")
    if not out_of_sync:
        lag: float | None = 0.0
    elif last_in_sync:
        lag = now - float(last_in_sync)
    else:
        lag = None  # never been in sync
    return {
        "rule": rule.name, "source": f"{host_of(src.base_url)}/{rule.repositories}",
        "destination": host_of(dst.base_url), "pending": len(out_of_sync),
        "pending_images": out_of_sync[:20], "lag_seconds": lag,
        "last_run": record.get("last_run"), "last_success": record.get("last_success"),
        "failures_total": int(record.get("failures_total", 0)),
        "last_errors": record.get("last_errors", []),
    }
    # END SOLUTION


def due_rules(config: ReplicationConfig, store: StateStore, now: float) -> list[ReplicationRule]:
    state = store.replication()
    return [r for r in config.rules
            if now - float(state.get(r.name, {}).get("last_run", 0)) >= r.interval_seconds]
