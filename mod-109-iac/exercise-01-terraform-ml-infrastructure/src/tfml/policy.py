"""`tfml policy`: checkov (offline) plus the library's own YAML policies, one severity gate.

* checkov scans the HCL of every cloud (`--framework terraform`) and, for AWS, a plan's JSON
  (`--framework terraform_plan`), always with `--skip-download` (no Bridgecrew API). Offline
  checkov reports no severities; its findings get `checkov_severity` from the settings.
* `policies/*.yaml` (everything but suppressions.yaml) hold rules of the form

      id: TFML-TAG-001
      name: cost tags on every taggable resource
      severity: HIGH
      resource_types: [aws_s3_bucket, google_storage_bucket]
      attribute: tags            # dotted path into the resource; blocks are lists
      check: present             # present | equals | not_in | has_keys | prefix_in
      value / values / keys      # what equals / not_in / prefix_in / has_keys compare with

  On HCL an attribute that is an expression (`var.tags`) is unknown: `present` passes, the
  other checks are left to the plan, where values are concrete.
* `policies/suppressions.yaml` lists `{id, resource, reason, expires}`; `resource` is an
  fnmatch pattern on `path::address`. A suppression without a reason or an expiry is an
  error; an expired one no longer applies and is reported.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tfml.errors import ConfigurationError, UnavailableError
from tfml.hcl import expression, load_module

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
CHECKS = ("present", "equals", "not_in", "has_keys", "prefix_in")
UNKNOWN = object()


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    severity: str
    resource_types: tuple[str, ...]
    attribute: str
    check: str
    value: Any = None
    values: tuple[Any, ...] = ()
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suppression:
    id: str
    resource: str
    reason: str
    expires: dt.date

    def matches(self, finding: PolicyFinding) -> bool:
        return (fnmatch.fnmatchcase(finding.id, self.id)
                and fnmatch.fnmatchcase(f"{finding.path}::{finding.resource}", self.resource))


@dataclass(frozen=True)
class PolicyFinding:
    id: str
    name: str
    severity: str
    source: str  # tfml | checkov
    path: str
    resource: str
    detail: str = ""

    def format(self) -> str:
        return (f"{self.severity:<8} {self.id} {self.path}::{self.resource}: {self.name}"
                + (f" ({self.detail})" if self.detail else ""))


@dataclass
class PolicyReport:
    findings: list[PolicyFinding] = field(default_factory=list)
    suppressed: list[tuple[PolicyFinding, Suppression]] = field(default_factory=list)
    expired: list[Suppression] = field(default_factory=list)
    threshold: str = "MEDIUM"

    @property
    def blocking(self) -> list[PolicyFinding]:
        floor = SEVERITIES.index(self.threshold)
        return [f for f in self.findings if SEVERITIES.index(f.severity) >= floor]

    @property
    def ok(self) -> bool:
        return not self.blocking


# --------------------------------------------------------------------------- loading


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] in (None, ""):
        raise ConfigurationError(f"{where}: missing {key!r}")
    return data[key]


def load_policies(directory: Path) -> list[Policy]:
    """Every rule in `directory/*.yaml` except suppressions.yaml (a file holds one or a list)."""
    policies: list[Policy] = []
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigurationError(f"{directory}: no policies directory")
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "suppressions.yaml":
            continue
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: invalid YAML ({exc})") from None
        for index, item in enumerate(raw if isinstance(raw, list) else [raw]):
            where = f"{path.name}[{index}]"
            if not isinstance(item, dict):
                raise ConfigurationError(f"{where}: a policy must be a mapping")
            severity = str(_require(item, "severity", where)).upper()
            if severity not in SEVERITIES:
                raise ConfigurationError(f"{where}: severity must be one of {SEVERITIES}")
            check = str(_require(item, "check", where))
            if check not in CHECKS:
                raise ConfigurationError(f"{where}: check must be one of {CHECKS}")
            policies.append(Policy(
                id=str(_require(item, "id", where)), name=str(_require(item, "name", where)),
                severity=severity,
                resource_types=tuple(_require(item, "resource_types", where)),
                attribute=str(_require(item, "attribute", where)), check=check,
                value=item.get("value"), values=tuple(item.get("values") or ()),
                keys=tuple(item.get("keys") or ()),
            ))
    return policies


def load_suppressions(path: Path) -> list[Suppression]:
    if not Path(path).is_file():
        return []
    try:
        raw = yaml.safe_load(Path(path).read_text()) or []
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: invalid YAML ({exc})") from None
    entries = raw.get("suppressions", []) if isinstance(raw, dict) else raw
    result = []
    for index, item in enumerate(entries):
        where = f"{Path(path).name}[{index}]"
        if not isinstance(item, dict):
            raise ConfigurationError(f"{where}: a suppression must be a mapping")
        reason = str(item.get("reason") or "").strip()
        if not reason:
            raise ConfigurationError(f"{where} ({item.get('id')}): every suppression needs a "
                                     "reason")
        expires = item.get("expires")
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                raise ConfigurationError(f"{where}: expires must be YYYY-MM-DD") from None
        if not isinstance(expires, dt.date):
            raise ConfigurationError(f"{where} ({item.get('id')}): every suppression needs an "
                                     "expiry date (expires: YYYY-MM-DD)")
        result.append(Suppression(id=str(_require(item, "id", where)),
                                  resource=str(item.get("resource", "*")), reason=reason,
                                  expires=expires))
    return result


# --------------------------------------------------------------------------- evaluation


def _get(value: Any, path: str) -> Any:
    """Follow a dotted path. Blocks are lists: one block is stepped into, several give a list
    of their values. An expression (`var.x`) on the way is UNKNOWN."""
    return _walk(value, path.split("."))


def _walk(value: Any, parts: list[str]) -> Any:
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], dict):
        value = value[0]  # hcl2 wraps every attribute value in a list
    if isinstance(value, str) and _is_expression(value):
        return UNKNOWN
    if not parts:
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
            return value[0]
        return value
    if isinstance(value, list):
        results = [_walk(item, parts) for item in value]
        if len(value) == 1:
            return results[0]
        if any(r is UNKNOWN for r in results):
            return UNKNOWN
        flat: list[Any] = []
        for item in results:
            flat += item if isinstance(item, list) else [item]
        return [item for item in flat if item is not None] or None
    if not isinstance(value, dict) or parts[0] not in value:
        return None
    return _walk(value[parts[0]], parts[1:])


def _is_expression(text: str) -> bool:
    return any(token in text for token in ("var.", "local.", "module.", "each.", "count.",
                                           "data.", "aws_", "google_", "azurerm_", "("))


def evaluate(policy: Policy, attributes: dict[str, Any]) -> str | None:
    """None when the resource passes (or the value is unknown), else why it fails."""
    # BEGIN SOLUTION
    value = _get(attributes, policy.attribute)
    if policy.check == "present":
        return None if value not in (None, {}, [], "") else f"{policy.attribute} is not set"
    if value is UNKNOWN:
        return None
    if policy.check == "equals":
        return None if value == policy.value else (
            f"{policy.attribute} is {value!r}, must be {policy.value!r}")
    if policy.check == "not_in":
        return None if value not in policy.values else f"{policy.attribute} is {value!r}"
    if policy.check == "has_keys":
        if not isinstance(value, dict):
            return f"{policy.attribute} is not set"
        missing = [k for k in policy.keys if k not in value]
        return f"{policy.attribute} lacks {', '.join(missing)}" if missing else None
    if policy.check == "prefix_in":
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if isinstance(v, str) and not _is_expression(v)
               and not any(v.startswith(str(p)) for p in policy.values)]
        return f"{policy.attribute} {', '.join(bad)} not allowed" if bad else None
    raise ConfigurationError(f"unknown check {policy.check!r}")
    # END SOLUTION


def scan_hcl(module_dir: Path, rel: str, policies: list[Policy]) -> list[PolicyFinding]:
    """The YAML policies on one module's resources, as written."""
    interface = load_module(module_dir, require_versions=False)
    findings = []
    for address, block in interface.resources.items():
        if block.kind != "resource":
            continue
        rtype = address.split(".")[0]
        body = expression(block.body)
        for policy in policies:
            if rtype in policy.resource_types and (why := evaluate(policy, body)):
                findings.append(PolicyFinding(policy.id, policy.name, policy.severity, "tfml",
                                              f"{rel}/{block.file}", address, why))
    return findings


UNKNOWN_TEXT = "(known after apply)"  # contains "(": read as an expression, so UNKNOWN


def _mark_unknown(after: Any, unknown: Any) -> Any:
    """Overlay `after_unknown` on `after`: values known only after apply become UNKNOWN_TEXT."""
    if unknown is True:
        return UNKNOWN_TEXT
    if isinstance(unknown, dict):
        base = dict(after) if isinstance(after, dict) else {}
        for key, sub in unknown.items():
            base[key] = _mark_unknown(base.get(key), sub)
        return base
    if isinstance(unknown, list):
        items = list(after) if isinstance(after, list) else []
        items += [None] * (len(unknown) - len(items))
        return [_mark_unknown(a, u) for a, u in zip(items, unknown, strict=False)]
    return after


def scan_plan(plan: dict[str, Any], rel: str, policies: list[Policy]) -> list[PolicyFinding]:
    """The YAML policies on a plan (`terraform show -json tfplan`): what each resource will
    look like after apply; values known only after apply are unknown, not missing."""
    findings = []
    for change in plan.get("resource_changes", []):
        actions = change.get("change", {}).get("actions", [])
        if change.get("mode") != "managed" or actions == ["delete"]:
            continue
        values = _mark_unknown(change["change"].get("after") or {},
                               change["change"].get("after_unknown") or {})
        if isinstance(values.get("tags_all"), dict) and values.get("tags_all"):
            values["tags"] = values["tags_all"]  # provider default_tags count
        for policy in policies:
            if change["type"] in policy.resource_types and (why := evaluate(policy, values)):
                findings.append(PolicyFinding(policy.id, policy.name, policy.severity, "tfml",
                                              rel, change["address"], why))
    return findings


# --------------------------------------------------------------------------- checkov


def _checkov_binary() -> str:
    candidate = Path(sys.executable).parent / "checkov"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("checkov")
    if not found:
        raise UnavailableError("checkov not found (it is a dependency of tfml: run uv sync)")
    return found


def run_checkov(target: Path, *, plan: bool, severity: str, base: Path,
                timeout: float = 600.0) -> list[PolicyFinding]:
    """checkov on a directory of HCL or on a plan JSON file, offline."""
    args = [_checkov_binary(), "--skip-download", "--quiet", "--compact", "-o", "json"]
    if plan:
        args += ["-f", str(target), "--framework", "terraform_plan"]
    else:
        args += ["-d", str(target), "--framework", "terraform"]
    try:
        result = subprocess.run(args, capture_output=True, text=True, check=False,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        raise UnavailableError(f"checkov ran past {timeout:.0f}s on {target}") from None
    if result.returncode not in (0, 1):
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UnavailableError(f"checkov failed on {target}: {tail}")
    try:
        payload = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        raise UnavailableError(f"checkov printed no JSON for {target}") from None
    reports = payload if isinstance(payload, list) else [payload]
    findings = []
    for report in reports:
        for check in report.get("results", {}).get("failed_checks", []):
            file_path = str(check.get("file_path", "")).lstrip("/")
            if not plan:
                file_path = _relative(Path(target) / file_path, base)
            else:
                file_path = _relative(Path(target), base)
            findings.append(PolicyFinding(
                id=str(check["check_id"]), name=str(check.get("check_name", "")),
                severity=str(check.get("severity") or severity).upper(), source="checkov",
                path=file_path, resource=str(check.get("resource", "")),
            ))
    return findings


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(Path(base).resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def apply_suppressions(findings: list[PolicyFinding], suppressions: list[Suppression],
                       threshold: str, today: dt.date | None = None) -> PolicyReport:
    """Drop suppressed findings; an expired suppression does not apply and is listed."""
    today = today or dt.date.today()
    active = [s for s in suppressions if s.expires >= today]
    report = PolicyReport(threshold=threshold,
                          expired=[s for s in suppressions if s.expires < today])
    for finding in findings:
        match = next((s for s in active if s.matches(finding)), None)
        if match:
            report.suppressed.append((finding, match))
        else:
            report.findings.append(finding)
    return report
