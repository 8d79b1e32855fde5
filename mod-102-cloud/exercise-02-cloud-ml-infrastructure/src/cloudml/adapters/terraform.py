"""The terraform CLI, for one target: init with the backend, plan/show/apply/output/state pull.

Runs through `aiinfra_shared.procs.terraform.Terraform` (private CLI config with the provider
mirror when one is found, hard timeouts, no phone-home). Each target gets its own
TF_DATA_DIR under the work dir, so the repository tree stays clean and two envs never share
a `.terraform` directory. Terraform's machine-readable diagnostics (`-json`) become one-line
errors of the right class: a held lock, a failed variable validation, a stale plan, a
provider that is not installed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiinfra_shared.procs.binaries import MissingBinaryError
from aiinfra_shared.procs.terraform import (
    Terraform,
    TerraformError,
    TerraformResult,
    TerraformTimeoutError,
)

from cloudml.errors import (
    CloudMLError,
    ConflictError,
    InputError,
    UnavailableError,
)
from cloudml.layout import Target


def error_from_output(result: TerraformResult, target: Target, action: str) -> CloudMLError:
    """Turn a failed command's diagnostics into one classified, one-line error."""
    diagnostics = [event["diagnostic"] for event in result.json_lines()
                   if event.get("type") == "diagnostic"
                   and event.get("@level") == "error"]
    text = result.stdout + result.stderr
    summary = str(diagnostics[0].get("summary", "")) if diagnostics else ""
    detail = str(diagnostics[0].get("detail", "")) if diagnostics else ""
    if "Error acquiring the state lock" in text or "acquiring the state lock" in summary:
        lock_id = _field(detail or text, "ID:")
        who = _field(detail or text, "Who:")
        return ConflictError(f"the state of {target.label} is locked (ID {lock_id}, by {who}):"
                             " wait for it, or release a stuck lock with `cloudml state "
                             f"unlock --cloud {target.cloud} --env {target.env}`")
    if summary == "Invalid value for variable":
        message = next((line for line in detail.splitlines() if line.strip()
                        and not line.startswith(("  on", "  ", "This was"))), detail)
        return InputError(f"{target.label}: invalid variable: {message.strip()}")
    if "Saved plan is stale" in text:
        return ConflictError(f"the saved plan of {target.label} no longer matches its state: "
                             "run `cloudml plan` again")
    if "Failed to query available provider packages" in text or (
            "Failed to install provider" in text) or "provider registry" in text:
        provider = _field(text, "provider ") or "a provider"
        return UnavailableError(f"{target.label}: terraform cannot install {provider} "
                                "(not in the local provider mirror): this cloud can only be "
                                "checked statically here")
    if diagnostics:
        first = detail.strip().splitlines()[0] if detail.strip() else ""
        return CloudMLError(f"terraform {action} failed for {target.label}: {summary}"
                            + (f": {first}" if first else ""))
    tail = " | ".join(result.tail(3).splitlines())
    return CloudMLError(f"terraform {action} failed for {target.label} "
                        f"(exit {result.returncode}): {tail}")


def _field(text: str, label: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(label):
            return stripped[len(label):].strip().rstrip(":")
    return "?"


class TerraformTarget:
    """terraform for one root module (terraform/envs/<cloud>/<env>)."""

    def __init__(self, root: Path, target: Target, data_dir: Path, *, timeout: float,
                 parallelism: int = 10, runner: Terraform | None = None) -> None:
        self.root = root
        self.target = target
        self.data_dir = data_dir
        self.parallelism = parallelism
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            base = runner or Terraform.create(data_dir, timeout=timeout)
        except MissingBinaryError as exc:
            raise UnavailableError(str(exc)) from exc
        self.tf = base.with_env(TF_DATA_DIR=str(data_dir / ".terraform"))

    # ---------------------------------------------------------------- plumbing

    def _run(self, action: str, *args: str, ok_codes: Sequence[int] = (0,)) -> TerraformResult:
        try:
            result = self.tf.run(*args, cwd=self.root, check=False)
        except TerraformTimeoutError as exc:
            raise UnavailableError(f"terraform {action} for {self.target.label} timed out "
                                   "and was stopped (the state lock may be left held)") from exc
        except TerraformError as exc:  # pragma: no cover - run(check=False) only times out
            raise CloudMLError(str(exc).splitlines()[0]) from exc
        if result.returncode not in ok_codes:
            raise error_from_output(result, self.target, action)
        return result

    def init(self, backend: Mapping[str, str]) -> bool:
        """`init` with the backend config; skipped when the same config is already set up.

        Returns True when terraform ran (each run costs a few seconds of provider install).
        """
        marker = self.data_dir / "backend.sha256"
        digest = hashlib.sha256(json.dumps(dict(backend), sort_keys=True).encode()).hexdigest()
        if marker.is_file() and marker.read_text() == digest and (
                self.data_dir / ".terraform").is_dir():
            return False
        args = ["init", "-input=false", "-reconfigure"]
        args += [f"-backend-config={key}={value}" for key, value in backend.items()]
        self._run("init", *args)
        marker.write_text(digest)
        return True

    @staticmethod
    def _vars(variables: Mapping[str, str]) -> list[str]:
        return [f"-var={name}={value}" for name, value in variables.items()]

    # ---------------------------------------------------------------- commands

    def plan(self, plan_file: Path, variables: Mapping[str, str], *, destroy: bool = False,
             refresh_only: bool = False) -> TerraformResult:
        """`plan -json -detailed-exitcode -out=FILE`: exit 0 no changes, 2 changes (errors
        raise); the result's JSON lines are terraform's machine-readable UI stream."""
        args = ["plan", "-input=false", "-json", "-detailed-exitcode", f"-out={plan_file}",
                f"-parallelism={self.parallelism}", *self._vars(variables)]
        if destroy:
            args.append("-destroy")
        if refresh_only:
            args.append("-refresh-only")
        return self._run("plan", *args, ok_codes=(0, 2))

    def show_plan(self, plan_file: Path) -> dict[str, Any]:
        """The saved plan as terraform's JSON plan format."""
        return dict(self._run("show", "show", "-json", str(plan_file)).json())

    def apply(self, plan_file: Path) -> TerraformResult:
        """Apply exactly a saved plan (no re-planning, no prompts)."""
        return self._run("apply", "apply", "-input=false", "-json", "-auto-approve",
                         f"-parallelism={self.parallelism}", str(plan_file))

    def settle(self, variables: Mapping[str, str]) -> TerraformResult:
        """`apply -refresh-only`: record what the cloud reports right after an apply.

        The AWS provider stores some attributes as they were when a resource was created,
        before its sibling resources ran (a bucket's versioning, a role's inline policies, an
        EIP's association). Read back later they differ, and a drift check would report the
        platform's own apply as drift. Settling once after each apply makes the next check
        compare against the cloud's own view; it never creates, changes or deletes anything.
        """
        return self._run("settle", "apply", "-refresh-only", "-input=false", "-json",
                         "-auto-approve", *self._vars(variables))

    def outputs(self) -> dict[str, Any]:
        raw = self._run("output", "output", "-json").json()
        return {name: entry.get("value") for name, entry in dict(raw).items()}

    def state_identity(self) -> tuple[int | None, str | None]:
        """(serial, lineage) of the current state; (None, None) before the first apply."""
        result = self._run("state pull", "state", "pull")
        if not result.stdout.strip():
            return None, None
        state = json.loads(result.stdout)
        return int(state["serial"]), str(state["lineage"])
