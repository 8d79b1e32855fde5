"""The deployment engine behind `pulumiml preview|up|destroy|refresh|outputs`.

`Engine` is the small interface the driver and the orchestrator use. Two implementations:

* `PulumiEngine`: the real Automation API (`LocalWorkspace`, `create_or_select_stack`, a
  `file://` backend, passphrase secrets, the policy pack passed as `policy_packs`). It needs
  the Pulumi CLI, which cannot be installed on these machines: tests marked `external`.
* `EmulatedEngine`: runs the same layer programs under mocks (`pulumiml.mockrun`), checks them
  with the real policy pack over gRPC, and keeps checkpoints in a file backend directory laid
  out like Pulumi's (`.pulumi/stacks/pulumiml/<stack>.json`). The "cloud" it deploys to is a
  directory of JSON resources, so out-of-band edits (drift) can be made and refreshed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiinfra_shared.io import atomic_write_text

from pulumiml.errors import (
    EngineUnavailableError,
    NotDeployedError,
    PassphraseError,
    PolicyViolationError,
)
from pulumiml.mockrun import Registration, run_program
from pulumiml.policy.client import (
    AnalyzerClient,
    PolicyReport,
    merge_policy_config,
    shared_analyzer,
)
from pulumiml.project import Project
from pulumiml.spec import PROJECT, StackName

OnOutput = Callable[[str], None]


@dataclass
class OpResult:
    """The JSON result of one operation on one stack."""

    stack: str
    operation: str
    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    changed_outputs: list[str] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)
    policy: PolicyReport | None = None
    resources: int = 0

    def as_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"stack": self.stack, "operation": self.operation,
                                   "changes": self.changes, "outputs": self.outputs,
                                   "resources": self.resources}
        if self.changed_outputs:
            payload["changed_outputs"] = self.changed_outputs
        if self.operation == "refresh":
            payload["drift"] = self.drift
        if self.policy is not None:
            payload["policy"] = self.policy.as_dict()
        return payload


class Engine(Protocol):
    """What the driver needs from a deployment engine."""

    def preview(self, stack: StackName, on_output: OnOutput | None = None) -> OpResult: ...

    def up(self, stack: StackName, on_output: OnOutput | None = None) -> OpResult: ...

    def destroy(self, stack: StackName, on_output: OnOutput | None = None) -> OpResult: ...

    def refresh(self, stack: StackName, preview_only: bool = True,
                on_output: OnOutput | None = None) -> OpResult: ...

    def outputs(self, stack: StackName) -> dict[str, Any]: ...

    def close(self) -> None: ...


def _say(on_output: OnOutput | None, text: str) -> None:
    if on_output is not None:
        on_output(text)


# --------------------------------------------------------------------------- real engine


class PulumiEngine:
    """The Automation API. Needs the `pulumi` CLI on PATH (not installable here)."""

    def __init__(self, project: Project, backend_url: str, passphrase: str | None,
                 policy_pack_dir: Path, work_dir: Path) -> None:
        if not passphrase:
            raise PassphraseError("PULUMI_CONFIG_PASSPHRASE is not set: the passphrase "
                                  "secrets provider needs it")
        if shutil.which("pulumi") is None:
            raise EngineUnavailableError("the Pulumi CLI is not on PATH (use --engine emulated, "
                                         "or install it: https://www.pulumi.com/docs/install/)")
        self.project = project
        self.backend_url = backend_url
        self.passphrase = passphrase
        self.policy_pack_dir = policy_pack_dir
        self.work_dir = work_dir

    def _stack(self, stack: StackName) -> Any:
        from pulumi import automation as auto

        from pulumiml.program import inline_program

        spec = self.project.spec(stack)
        opts = auto.LocalWorkspaceOptions(
            work_dir=str(self.work_dir),
            project_settings=auto.ProjectSettings(
                name=PROJECT, runtime="python", backend=auto.ProjectBackend(url=self.backend_url)),
            secrets_provider="passphrase",
            env_vars={"PULUMI_CONFIG_PASSPHRASE": self.passphrase})
        handle = auto.create_or_select_stack(stack_name=str(stack), project_name=PROJECT,
                                             program=inline_program(
                                                 stack, spec,
                                                 extra_references=self.project.references(stack)),
                                             opts=opts)
        region_key = {"aws": "aws:region", "gcp": "gcp:region", "azure": "azure-native:location"}
        config = {region_key[stack.cloud.value]: auto.ConfigValue(spec.region),
                  f"{PROJECT}:layer": auto.ConfigValue(stack.layer.value)}
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint and stack.cloud.value == "aws":  # moto or another emulator
            services = ("ec2", "kms", "s3", "ecr", "iam", "sts", "sagemaker", "batch",
                        "applicationautoscaling")
            config.update({
                "aws:endpoints": auto.ConfigValue(json.dumps([{s: endpoint for s in services}])),
                "aws:skipCredentialsValidation": auto.ConfigValue("true"),
                "aws:skipRequestingAccountId": auto.ConfigValue("true"),
                "aws:s3UsePathStyle": auto.ConfigValue("true")})
        handle.set_all_config(config)
        return handle

    def _policy_config_file(self, stack: StackName) -> str:
        with AnalyzerClient() as client:
            merged = merge_policy_config(client.default_levels(),
                                         *self.project.policy_layers(stack))
        path = self.work_dir / f"policy-{stack}.json"
        atomic_write_text(path, json.dumps(merged, indent=2))
        return str(path)

    def preview(self, stack: StackName, on_output: OnOutput | None = None) -> OpResult:
        result = self._stack(stack).preview(policy_packs=[str(self.policy_pack_dir)],
                                            policy_pack_configs=[self._policy_config_file(stack)],
                                            on_output=on_output)
        return OpResult(str(stack), "preview", changes=dict(result.change_summary))

    def up(self, stack: StackName, on_output: OnOutput | None = None) -> OpResult:
        result = self._stack(stack).up(policy_packs=[str(self.policy_pack_dir)],
                                       policy_pack_configs=[self._policy_config_file(stack)],
                                       on_output=on_output)
        return OpResult(str(stack), "up", changes=dict(result.summary.resource_changes or {}),
                        outputs={k: v.value for k, v in result.outputs.items()})

    def destroy(self, stack: StackName, on_output: OnOutput | None = None) -> OpResult:
        result = self._stack(stack).destroy(on_output=on_output)
        return OpResult(str(stack), "destroy", changes=dict(result.summary.resource_changes or {}))

    def refresh(self, stack: StackName, preview_only: bool = True,
                on_output: OnOutput | None = None) -> OpResult:
        result = self._stack(stack).refresh(preview_only=preview_only, on_output=on_output)
        changes = dict(result.summary.resource_changes or {})
        drifted = {k: v for k, v in changes.items() if k != "same" and v}
        return OpResult(str(stack), "refresh", changes=changes,
                        drift=[{"change": k, "count": v} for k, v in drifted.items()])

    def outputs(self, stack: StackName) -> dict[str, Any]:
        return {k: v.value for k, v in self._stack(stack).outputs().items()}

    def close(self) -> None:
        return None


# ----------------------------------------------------------------------- emulated engine


def _passphrase_check(salt: bytes, passphrase: str) -> str:
    return base64.b64encode(hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, 100_000)
                            ).decode()


def diff_resources(old: Mapping[str, Mapping[str, Any]],
                   new: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Pulumi's change summary between two {urn: inputs} maps."""
    # BEGIN SOLUTION
    changes = {"create": 0, "update": 0, "delete": 0, "same": 0}
    for urn, inputs in new.items():
        if urn not in old:
            changes["create"] += 1
        elif dict(old[urn]) != dict(inputs):
            changes["update"] += 1
        else:
            changes["same"] += 1
    changes["delete"] = sum(1 for urn in old if urn not in new)
    return {k: v for k, v in changes.items() if v}
    # END SOLUTION


class EmulatedEngine:
    """Mocked programs + the real policy pack + a file backend + a JSON "cloud"."""

    def __init__(self, project: Project, backend_dir: Path, passphrase: str | None,
                 cloud_dir: Path | None = None) -> None:
        if not passphrase:
            raise PassphraseError("PULUMI_CONFIG_PASSPHRASE is not set: the passphrase "
                                  "secrets provider needs it")
        self.project = project
        self.backend_dir = backend_dir
        self.cloud_dir = cloud_dir or backend_dir / ".cloud"
        self.passphrase = passphrase

    # -- storage -------------------------------------------------------------------------
    def checkpoint_path(self, stack: StackName) -> Path:
        return self.backend_dir / ".pulumi" / "stacks" / PROJECT / f"{stack}.json"

    def _secrets_path(self) -> Path:
        return self.backend_dir / ".pulumi" / "meta.yaml.json"

    def _unlock(self) -> None:
        """Check the passphrase against the backend's salt (created on first use)."""
        # BEGIN SOLUTION
        path = self._secrets_path()
        if path.is_file():
            meta = json.loads(path.read_text())
            salt = base64.b64decode(meta["salt"])
            if not hmac.compare_digest(meta["check"], _passphrase_check(salt, self.passphrase)):
                raise PassphraseError("incorrect passphrase: it does not decrypt this "
                                      f"backend's secrets ({self.backend_dir})")
            return
        salt = secrets.token_bytes(16)
        atomic_write_text(path, json.dumps({"salt": base64.b64encode(salt).decode(),
                                            "check": _passphrase_check(salt, self.passphrase)}))
        # END SOLUTION

    def _checkpoint(self, stack: StackName) -> dict[str, Any] | None:
        path = self.checkpoint_path(stack)
        if not path.is_file():
            return None
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def _cloud_path(self, stack: StackName) -> Path:
        return self.cloud_dir / f"{stack}.json"

    # -- helpers -------------------------------------------------------------------------
    def _references(self, stack: StackName) -> dict[str, dict[str, Any]]:
        refs = {}
        for upstream in self.project.references(stack):
            checkpoint = self._checkpoint(upstream)
            if checkpoint is None:
                raise NotDeployedError(f"{stack} references {upstream}, which is not deployed "
                                       f"(run: pulumiml up --stack {upstream})")
            refs[upstream.fully_qualified()] = checkpoint["outputs"]
        return refs

    def check_policy(self, stack: StackName, registrations: list[Registration]) -> PolicyReport:
        client = shared_analyzer()
        config = merge_policy_config(client.default_levels(), *self.project.policy_layers(stack))
        return client.evaluate(str(stack), registrations, config)

    def _plan(self, stack: StackName, on_output: OnOutput | None, operation: str
              ) -> tuple[OpResult, list[Registration], dict[str, Any] | None]:
        self._unlock()
        spec = self.project.spec(stack)
        _say(on_output, f"{operation} {stack}: running the program")
        mocked = run_program(stack, spec, self._references(stack), preview=operation == "preview",
                             extra_references=self.project.references(stack))
        report = self.check_policy(stack, mocked.registrations)
        for diagnostic in report.diagnostics:
            _say(on_output, f"  [{diagnostic.level}] {diagnostic.policy}: {diagnostic.message}")
        old = self._checkpoint(stack)
        old_inputs = {r["urn"]: r["inputs"] for r in (old or {}).get("resources", [])}
        new_inputs = {r.urn: r.inputs for r in mocked.registrations}
        result = OpResult(str(stack), operation, changes=diff_resources(old_inputs, new_inputs),
                          outputs=mocked.outputs, policy=report,
                          resources=len(mocked.registrations))
        if old is not None:
            result.changed_outputs = sorted(k for k in set(old["outputs"]) | set(mocked.outputs)
                                            if old["outputs"].get(k) != mocked.outputs.get(k))
        if report.mandatory:
            first = report.mandatory[0]
            where = first.urn.rsplit("::", 1)[-1] or "stack"
            raise PolicyViolationError(
                f"{stack}: {len(report.mandatory)} mandatory policy violation(s), nothing "
                f"deployed; first: {first.policy}: {first.message} ({where})")
        return result, mocked.registrations, old

    # -- operations ----------------------------------------------------------------------
    def preview(self, stack: StackName, on_output: OnOutput | None = None) -> OpResult:
        result, _, _ = self._plan(stack, on_output, "preview")
        _say(on_output, f"preview {stack}: {_summary(result.changes)}")
        return result

    def up(self, stack: StackName, on_output: OnOutput | None = None) -> OpResult:
        # BEGIN SOLUTION
        result, registrations, _old = self._plan(stack, on_output, "up")
        resources = [r.as_dict() for r in registrations]
        checkpoint = {"version": 3, "stack": str(stack), "project": PROJECT,
                      "resources": resources, "outputs": result.outputs}
        cloud = {r.urn: {"type": r.type, "id": r.id, "state": r.state}
                 for r in registrations if r.custom and not r.read}
        atomic_write_text(self._cloud_path(stack), json.dumps(cloud, indent=1, sort_keys=True))
        atomic_write_text(self.checkpoint_path(stack), json.dumps(checkpoint, indent=1))
        _say(on_output, f"up {stack}: {_summary(result.changes)}")
        return result
        # END SOLUTION

    def destroy(self, stack: StackName, on_output: OnOutput | None = None) -> OpResult:
        self._unlock()
        old = self._checkpoint(stack)
        deleted = len(old["resources"]) if old else 0
        self._cloud_path(stack).unlink(missing_ok=True)
        self.checkpoint_path(stack).unlink(missing_ok=True)
        _say(on_output, f"destroy {stack}: {deleted} deleted")
        return OpResult(str(stack), "destroy", changes={"delete": deleted} if deleted else {})

    def refresh(self, stack: StackName, preview_only: bool = True,
                on_output: OnOutput | None = None) -> OpResult:
        """Compare the checkpoint with the emulated cloud; drift is every difference."""
        # BEGIN SOLUTION
        self._unlock()
        old = self._checkpoint(stack)
        if old is None:
            raise NotDeployedError(f"{stack} is not deployed: nothing to refresh")
        path = self._cloud_path(stack)
        actual = json.loads(path.read_text()) if path.is_file() else {}
        drift: list[dict[str, Any]] = []
        same = 0
        for resource in old["resources"]:
            if not resource["custom"] or resource["read"]:
                continue
            urn, expected = resource["urn"], resource["state"]
            if urn not in actual:
                drift.append({"urn": urn, "change": "delete", "type": resource["type"]})
                continue
            live = actual[urn]["state"]
            keys = sorted(k for k in set(expected) | set(live) if expected.get(k) != live.get(k))
            if keys:
                drift.append({"urn": urn, "change": "update", "type": resource["type"],
                              "properties": {k: {"expected": expected.get(k),
                                                 "actual": live.get(k)} for k in keys}})
            else:
                same += 1
        changes = {"same": same}
        for item in drift:
            changes[item["change"]] = changes.get(item["change"], 0) + 1
        if drift and not preview_only:
            for resource in old["resources"]:
                if resource["urn"] in actual:
                    resource["state"] = actual[resource["urn"]]["state"]
            old["resources"] = [r for r in old["resources"]
                                if not r["custom"] or r["read"] or r["urn"] in actual]
            atomic_write_text(self.checkpoint_path(stack), json.dumps(old, indent=1))
        for item in drift:
            _say(on_output, f"  drift {item['change']}: {item['urn'].rsplit('::', 1)[-1]}")
        return OpResult(str(stack), "refresh", changes=changes, drift=drift,
                        outputs=old["outputs"], resources=len(old["resources"]))
        # END SOLUTION

    def outputs(self, stack: StackName) -> dict[str, Any]:
        self._unlock()
        checkpoint = self._checkpoint(stack)
        if checkpoint is None:
            raise NotDeployedError(f"{stack} is not deployed (no checkpoint in "
                                   f"{self.backend_dir})")
        outputs: dict[str, Any] = checkpoint["outputs"]
        return outputs

    def deployed(self, stack: StackName) -> bool:
        return self.checkpoint_path(stack).is_file()

    def close(self) -> None:
        return None  # the shared policy pack process stops at exit


def _summary(changes: Mapping[str, int]) -> str:
    return ", ".join(f"{v} to {k}" if k != "same" else f"{v} unchanged"
                     for k, v in changes.items()) or "no changes"


def backend_dir_from_url(url: str) -> Path:
    """`file://~/x` or `file:///abs` -> a directory; other backends are not emulated."""
    if not url.startswith("file://"):
        raise EngineUnavailableError(f"backend {url!r}: the emulated engine supports "
                                     "file:// backends only")
    return Path(url[len("file://"):]).expanduser()
