"""The workflows behind each command: plan, apply, destroy, drift, cost, state operations.

Each one wires the pure rules (layout, safety, plan_summary, drift, cost, state) to the two
adapters (terraform, the S3 state bucket). Files this writes (saved plan, its record, cost
records) go under the work dir, atomically: an interrupted command leaves the previous
files or none, never half of one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json
from aiinfra_shared.procs.terraform import Terraform

from cloudml.adapters.s3_state import BootstrapResult, StateBucket
from cloudml.adapters.terraform import TerraformTarget
from cloudml.config import Settings
from cloudml.cost import CostReport, delta, price_plan
from cloudml.drift import DriftReport, drift_report
from cloudml.errors import ConflictError, MissingError, UnavailableError
from cloudml.layout import (
    RUNNABLE_CLOUDS,
    TFVARS,
    StateStore,
    Target,
    backend_config,
    lock_key,
    module_dir,
    root_dir,
    state_key,
)
from cloudml.plan_summary import PlanSummary, summarize_plan
from cloudml.price_table import load_price_table
from cloudml.safety import PlanRecord, check_destroy_allowed, check_fresh, config_digest
from cloudml.state import LockInfo, StateVersion, check_release, parse_lock, rollback_version

log = logging.getLogger(__name__)


@dataclass
class PlanOutcome:
    summary: PlanSummary
    record: PlanRecord
    plan_file: Path
    cost: CostReport


@dataclass
class ApplyOutcome:
    record: PlanRecord
    seconds: float
    cost: CostReport


class Platform:
    """Operations on the targets of one terraform tree."""

    def __init__(self, settings: Settings, runner: Terraform | None = None) -> None:
        self.settings = settings
        self.runner = runner  # a preconfigured terraform (tests); default: found at run time

    # ---------------------------------------------------------------- paths

    def root(self, target: Target) -> Path:
        """The target's root, checked: it exists and has its tfvars."""
        root = root_dir(self.settings.terraform_dir, target)
        if not root.is_dir():
            raise MissingError(f"no root module for {target.label} at {root}")
        if not (root / TFVARS).is_file():
            raise MissingError(f"{root / TFVARS} is missing: every env root needs its tfvars")
        return root

    def target_dir(self, target: Target) -> Path:
        return Path(self.settings.work_dir) / target.slug

    def plan_file(self, target: Target) -> Path:
        return self.target_dir(target) / "tfplan"

    def _record_file(self, target: Target) -> Path:
        return self.target_dir(target) / "tfplan.meta.json"

    def _plan_json_file(self, target: Target) -> Path:
        return self.target_dir(target) / "tfplan.json"

    def _applied_file(self, target: Target) -> Path:
        return self.target_dir(target) / "last-applied.json"

    def applied_variables(self, target: Target) -> dict[str, str]:
        """The -var values of the last apply (drift checks reuse them)."""
        path = self._applied_file(target)
        return dict(json.loads(path.read_text()).get("variables", {})) if path.is_file() else {}

    def store(self) -> StateStore:
        s = self.settings
        return StateStore(s3_bucket=s.state_bucket, s3_region=s.state_region,
                          gcs_bucket=s.gcs_bucket,
                          azure_resource_group=s.azure_resource_group,
                          azure_storage_account=s.azure_storage_account,
                          azure_container=s.azure_container)

    def state_bucket(self) -> StateBucket:
        return StateBucket(self.settings.state_bucket, self.settings.state_region)

    def terraform(self, target: Target) -> TerraformTarget:
        """terraform for the target, initialised against its backend."""
        root = self.root(target)
        tf = TerraformTarget(root, target, self.target_dir(target),
                             timeout=self.settings.terraform_timeout,
                             parallelism=self.settings.parallelism, runner=self.runner)
        if target.cloud not in RUNNABLE_CLOUDS:
            log.info("%s: provider may be missing from the local mirror", target.cloud)
        tf.init(backend_config(target, self.store()))
        return tf

    def digest(self, target: Target) -> str:
        """Digest of every .tf/.tfvars file of the root and of the cloud's module."""
        files: dict[str, bytes] = {}
        for base in (root_dir(self.settings.terraform_dir, target),
                     module_dir(self.settings.terraform_dir, target.cloud)):
            for path in sorted(base.rglob("*")):
                if path.suffix in {".tf", ".tfvars"} and ".terraform" not in path.parts:
                    files[str(path.relative_to(self.settings.terraform_dir))] = path.read_bytes()
        return config_digest(files)

    # ---------------------------------------------------------------- plan / apply

    def plan(self, target: Target, variables: Mapping[str, str] | None = None, *,
             destroy: bool = False) -> PlanOutcome:
        """Plan into a saved plan file, with a record of what it was planned against."""
        self._discard_plan(target)
        tf = self.terraform(target)
        serial, lineage = tf.state_identity()
        try:
            tf.plan(self.plan_file(target), dict(variables or {}), destroy=destroy)
            plan = tf.show_plan(self.plan_file(target))
        except BaseException:
            self._discard_plan(target)  # terraform saves errored plans too: never keep one
            raise
        summary = summarize_plan(plan)
        record = PlanRecord(cloud=target.cloud, env=target.env,
                            created_at=datetime.now(UTC).isoformat(),
                            config_digest=self.digest(target), state_serial=serial,
                            state_lineage=lineage, destroy=destroy,
                            destroys=summary.destroys,
                            flagged=tuple(c.address for c in summary.flagged),
                            variables=dict(variables or {}))
        atomic_write_json(self._plan_json_file(target), plan)
        atomic_write_json(self._record_file(target), record.as_dict())
        return PlanOutcome(summary, record, self.plan_file(target), self.price(plan))

    def _discard_plan(self, target: Target) -> None:
        for path in (self.plan_file(target), self._record_file(target),
                     self._plan_json_file(target)):
            path.unlink(missing_ok=True)

    def saved_record(self, target: Target) -> PlanRecord:
        path = self._record_file(target)
        if not path.is_file() or not self.plan_file(target).is_file():
            raise MissingError(f"no saved plan for {target.label}: run `cloudml plan "
                               f"--cloud {target.cloud} --env {target.env}` first")
        return PlanRecord.from_dict(json.loads(path.read_text()))

    def apply(self, target: Target, *, allow_destroy: bool = False,
              confirmation: str | None = None) -> ApplyOutcome:
        """Apply the saved plan if it is fresh and, in prod, its deletes are confirmed."""
        # BEGIN SOLUTION: gate, freshness check, apply the plan file, settle, record, discard
        self.root(target)
        record = self.saved_record(target)
        check_destroy_allowed(target, record.destroys, allow_destroy=allow_destroy,
                              confirmation=confirmation)
        tf = self.terraform(target)
        serial, lineage = tf.state_identity()
        check_fresh(record, target, now=datetime.now(UTC),
                    max_age=timedelta(minutes=self.settings.plan_max_age_minutes),
                    config_digest_now=self.digest(target), serial_now=serial,
                    lineage_now=lineage)
        before = (self.state_bucket().current_version(state_key(target))
                  if target.cloud == "aws" else None)
        result = tf.apply(self.plan_file(target))
        plan = json.loads(self._plan_json_file(target).read_text())
        cost = self.price(plan)
        if not record.destroy:
            tf.settle(record.variables)
        atomic_write_json(self._applied_file(target),
                          {"cost": cost.as_dict(), "variables": dict(record.variables),
                           "applied_at": datetime.now(UTC).isoformat(),
                           "state_version_before": before})
        self._discard_plan(target)  # a plan is applied once
        return ApplyOutcome(record, result.duration, cost)
        # END SOLUTION

    def destroy(self, target: Target, variables: Mapping[str, str] | None = None, *,
                allow_destroy: bool = False, confirmation: str | None = None,
                ) -> tuple[PlanOutcome, ApplyOutcome]:
        """Plan a destroy, then apply it under the same rules as any other plan."""
        planned = self.plan(target, variables, destroy=True)
        check_destroy_allowed(target, planned.summary.destroys, allow_destroy=allow_destroy,
                              confirmation=confirmation)
        return planned, self.apply(target, allow_destroy=allow_destroy,
                                   confirmation=confirmation)

    def outputs(self, target: Target) -> dict[str, Any]:
        return self.terraform(target).outputs()

    def drift(self, target: Target, variables: Mapping[str, str] | None = None,
              ) -> DriftReport:
        """`plan -refresh-only -detailed-exitcode`, digested (no plan is left to apply).

        Variables default to those of the last apply, so the check sees the same config."""
        # BEGIN SOLUTION: refresh-only plan; show it only when the stream reports drift
        tf = self.terraform(target)
        variables = {**self.applied_variables(target), **dict(variables or {})}
        drift_file = self.target_dir(target) / "drift.tfplan"
        try:
            result = tf.plan(drift_file, variables, refresh_only=True)
            # The UI stream says whether anything drifted; only then is the full plan (with
            # attribute values) worth another provider load.
            streamed = any(event.get("type") == "resource_drift"
                           for event in result.json_lines())
            report = drift_report(tf.show_plan(drift_file)) if streamed else DriftReport()
        finally:
            drift_file.unlink(missing_ok=True)
        return report
        # END SOLUTION

    # ---------------------------------------------------------------- cost

    def price(self, plan: Mapping[str, Any]) -> CostReport:
        return price_plan(plan, load_price_table(self.settings.price_table))

    def cost(self, target: Target, plan_file: Path | None = None,
             ) -> tuple[CostReport, dict[str, Any]]:
        """Price a plan (`terraform show -json` output; default: the saved plan) and its
        change against the last applied plan."""
        path = plan_file or self._plan_json_file(target)
        if not path.is_file():
            raise MissingError(f"no plan to price at {path}: run `cloudml plan --cloud "
                               f"{target.cloud} --env {target.env}` first")
        try:
            plan = json.loads(path.read_text())
        except ValueError as exc:
            raise MissingError(f"{path} is not a terraform JSON plan ({exc})") from exc
        report = self.price(plan)
        applied = self._applied_file(target)
        previous = json.loads(applied.read_text())["cost"] if applied.is_file() else None
        return report, delta(report, previous)

    # ---------------------------------------------------------------- state

    def _require_aws_state(self, target: Target) -> None:
        if target.cloud != "aws":
            raise UnavailableError(f"{target.cloud} state lives in its own cloud's storage "
                                   "(GCS/azurerm), which cannot be reached here: use the "
                                   "cloud's console or CLI for it")

    def bootstrap(self) -> BootstrapResult:
        return self.state_bucket().bootstrap()

    def versions(self, target: Target) -> list[StateVersion]:
        self._require_aws_state(target)
        return self.state_bucket().versions(state_key(target))

    def rollback(self, target: Target, version_id: str | None = None,
                 ) -> tuple[StateVersion, str]:
        """Make an older state version current again (by copy); returns (restored, new id).

        Default: the version that was current before the last apply through cloudml (an
        apply writes the state more than once, so "the previous version" may be half of the
        bad apply); without that record, the version before the current one.
        """
        self._require_aws_state(target)
        bucket = self.state_bucket()
        lock = bucket.read(lock_key(target))
        if lock is not None:
            info = parse_lock(lock)
            raise ConflictError(f"{target.label} is locked ({info.id}, {info.operation} by "
                                   f"{info.who}): roll back when nothing runs")
        if version_id is None:
            applied = self._applied_file(target)
            if applied.is_file():
                version_id = json.loads(applied.read_text()).get("state_version_before")
        chosen = rollback_version(bucket.versions(state_key(target)), version_id)
        return chosen, bucket.restore(state_key(target), chosen.version_id)

    def lock(self, target: Target) -> LockInfo | None:
        self._require_aws_state(target)
        body = self.state_bucket().read(lock_key(target))
        return None if body is None else parse_lock(body)

    def unlock(self, target: Target, *, force: bool = False, lock_id: str | None = None,
               ) -> LockInfo:
        """Release a stuck lock: only a stale one, unless forced."""
        info = self.lock(target)
        if info is None:
            raise MissingError(f"{target.label} is not locked")
        check_release(info, now=datetime.now(UTC),
                      stale_after=timedelta(minutes=self.settings.lock_stale_after_minutes),
                      force=force, lock_id=lock_id)
        self.state_bucket().delete(lock_key(target))
        return info
