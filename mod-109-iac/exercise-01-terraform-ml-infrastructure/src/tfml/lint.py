"""`tfml lint`: `terraform fmt -check`, `terraform validate` (AWS) and rules on the parsed HCL.

tflint cannot be installed here; these rules cover what the library relies on:

| rule     | what it flags                                                        |
|----------|-----------------------------------------------------------------------|
| TFML001  | a module without versions.tf                                         |
| TFML002  | a variable without a type                                            |
| TFML003  | a variable without a description                                     |
| TFML004  | an output without a description                                      |
| TFML005  | a provider in required_providers without an upper-bounded version    |
| TFML006  | no `required_version`                                                |
| TFML007  | a hard-coded region (AWS, GCP or Azure) in a resource, data source,  |
|          | module call, provider or local                                       |
| TFML008  | a hard-coded 12-digit account ID                                     |
| TFML009  | a hard-coded ARN                                                      |
| TFML010  | a provider block inside a reusable module                            |
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfml.errors import ConfigurationError
from tfml.hcl import ModuleInterface, expression, load_module

REGION_RE = re.compile(
    r"\b(?:(?:us|eu|ap|sa|ca|me|af|il|mx)-(?:north|south|east|west|central|northeast|southeast"
    r"|northwest|southwest)-\d"
    r"|(?:us|europe|asia|australia|northamerica|southamerica|africa|me)-(?:north|south|east"
    r"|west|central|northeast|southeast|northwest|southwest)\d"
    r"|(?:east|west|north|south|central|southeast|northcentral|southcentral|westcentral)"
    r"(?:us|europe|asia|india)\d?"
    r"|(?:uk|sweden|france|germany|japan|australia|korea|canada|brazil|norway|switzerland|uae"
    r"|southafrica|poland|italy|qatar|israel|mexico|spain|newzealand)"
    r"(?:north|south|east|west|central|westcentral|southeast)\d?)\b")
ACCOUNT_RE = re.compile(r"(?<![\w.-])\d{12}(?![\w.-])")
ARN_RE = re.compile(r"\barn:aws[a-z-]*:")


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    line: int
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.rule} {self.message}"


def _strings(value: Any) -> Iterator[str]:
    """Literal text of an attribute value: strings, with `${...}` interpolations blanked."""
    if isinstance(value, str):
        yield re.sub(r"\$\{[^}]*\}", "", value)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not str(key).startswith("__"):
                yield from _strings(item)


def _is_upper_bounded(constraint: str) -> bool:
    """`~> 5.0`, `< 6.0`, `= 5.1.0` or `5.1.0` bound the version from above; `>= 5` does not."""
    parts = [p.strip() for p in constraint.split(",") if p.strip()]
    return any(p.startswith(("~>", "<", "=")) or re.fullmatch(r"\d+(\.\d+)*", p)
               for p in parts if not p.startswith(">=") and not p.startswith("!="))


def check_interface(interface: ModuleInterface, rel: str) -> list[Finding]:
    """The HCL rules on one parsed module (`rel` prefixes the paths in findings)."""
    # BEGIN SOLUTION
    findings: list[Finding] = []
    if not interface.has_versions_tf:
        findings.append(Finding("TFML001", rel, 0, "no versions.tf: pin terraform and every "
                                                   "provider in it"))
    for var in interface.variables.values():
        where = f"{rel}/{var.file}"
        if not var.type:
            findings.append(Finding("TFML002", where, var.line, f"variable {var.name!r} has "
                                                                 "no type"))
        if not var.description:
            findings.append(Finding("TFML003", where, var.line, f"variable {var.name!r} has "
                                                                 "no description"))
    for out in interface.outputs.values():
        if not out.description:
            findings.append(Finding("TFML004", f"{rel}/{out.file}", out.line,
                                    f"output {out.name!r} has no description"))
    for name, spec in interface.required_providers.items():
        version = spec.get("version")
        if not version or not _is_upper_bounded(str(version)):
            findings.append(Finding("TFML005", f"{rel}/versions.tf", 0,
                                    f"provider {name!r} is not pinned with an upper bound "
                                    f"(version = {version!r})"))
    if not interface.required_version:
        findings.append(Finding("TFML006", rel, 0, "no required_version for terraform"))
    blocks = [*interface.resources.values(), *interface.providers, *interface.locals]
    for block in blocks:
        where = f"{rel}/{block.file}"
        for text in _strings(expression(block.body)):
            if match := REGION_RE.search(text):
                findings.append(Finding("TFML007", where, block.line,
                                        f"{block.address}: hard-coded region {match.group(0)!r}"))
            if ARN_RE.search(text):
                findings.append(Finding("TFML009", where, block.line,
                                        f"{block.address}: hard-coded ARN {text!r}"))
            elif match := ACCOUNT_RE.search(text):
                findings.append(Finding("TFML008", where, block.line,
                                        f"{block.address}: hard-coded account ID "
                                        f"{match.group(0)!r}"))
    for provider in interface.providers:
        findings.append(Finding("TFML010", f"{rel}/{provider.file}", provider.line,
                                f"provider {provider.address!r} configured inside a module "
                                "(callers configure providers)"))
    return findings
    # END SOLUTION


def lint_module(path: Path, rel: str) -> list[Finding]:
    try:
        interface = load_module(path, require_versions=False)
    except ConfigurationError as exc:
        return [Finding("TFML000", rel, 0, str(exc))]
    return check_interface(interface, rel)


# An example is a root: it configures its providers (TFML010 is for reusable modules) and
# pins terraform and them in its main.tf (no versions.tf of its own).
EXAMPLE_EXEMPT = ("TFML001", "TFML010")


def lint_example(path: Path, rel: str) -> list[Finding]:
    """The HCL rules on one example root (`examples/basic`, `examples/complete`)."""
    try:
        interface = load_module(path, require_versions=False)
    except ConfigurationError as exc:
        return [Finding("TFML000", rel, 0, str(exc))]
    findings = [f for f in check_interface(interface, rel) if f.rule not in EXAMPLE_EXEMPT]
    if not interface.required_providers:
        findings.append(Finding("TFML005", rel, 0, "no required_providers: an example pins "
                                                   "its providers in a terraform block"))
    return findings


def examples_of(module_path: Path) -> list[Path]:
    """The module's example roots (`examples/*` holding `.tf` files), sorted."""
    return sorted(p for p in (Path(module_path) / "examples").glob("*")
                  if p.is_dir() and any(p.glob("*.tf")))
