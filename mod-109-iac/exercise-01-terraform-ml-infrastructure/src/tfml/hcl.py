"""A module's public interface, read from its HCL: variables, outputs, resources, providers.

Parsing uses the `hcl2` module that checkov depends on (bc-python-hcl2). Do not install
python-hcl2 next to it: it ships a module of the same name and breaks checkov. `hcl2` returns
attribute values wrapped in lists and expressions as `"${...}"` strings; this module unwraps
both so that the rest of tfml sees plain values and expression text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from tfml.errors import ConfigurationError

DEPRECATED_RE = re.compile(r"#\s*tfml:deprecated\s*(?P<note>.*)$")
VARIABLE_RE = re.compile(r'^\s*variable\s+"(?P<name>[^"]+)"')


@dataclass(frozen=True)
class Variable:
    name: str
    type: str | None
    description: str | None
    default: Any = None
    required: bool = True
    nullable: bool = True
    sensitive: bool = False
    validations: int = 0
    deprecated: str | None = None
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Output:
    name: str
    description: str | None
    sensitive: bool = False
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Block:
    """Any other top-level block, kept with its file and line for lint rules."""

    kind: str  # resource, data, module, provider, locals
    address: str  # aws_s3_bucket.this, data.aws_region.current, module.network
    body: dict[str, Any]
    file: str
    line: int


@dataclass
class ModuleInterface:
    path: Path
    variables: dict[str, Variable] = field(default_factory=dict)
    outputs: dict[str, Output] = field(default_factory=dict)
    resources: dict[str, Block] = field(default_factory=dict)  # managed, data and module calls
    providers: list[Block] = field(default_factory=list)
    locals: list[Block] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)  # from -> to
    required_providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_version: str | None = None
    has_versions_tf: bool = False
    files: list[str] = field(default_factory=list)

    @property
    def addresses(self) -> set[str]:
        """Managed resource and module call addresses (data sources are not state)."""
        return {a for a in self.resources if not a.startswith("data.")}


def unwrap(value: Any) -> Any:
    """hcl2 wraps attribute values in one-element lists and expressions in `${...}`."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return value


def expression(value: Any) -> Any:
    """Like `unwrap` but keeps nested structures and strips `${}` everywhere."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    if isinstance(value, list):
        return [expression(v) for v in value]
    if isinstance(value, dict):
        return {k: expression(v) for k, v in value.items() if not k.startswith("__")}
    return value


def _deprecations(text: str) -> dict[str, str]:
    """`# tfml:deprecated NOTE` on the line(s) right above `variable "x" {` -> {x: NOTE}."""
    found: dict[str, str] = {}
    pending: str | None = None
    for line in text.splitlines():
        match = DEPRECATED_RE.search(line)
        if match and line.lstrip().startswith("#"):
            pending = match.group("note").strip() or "deprecated"
            continue
        var = VARIABLE_RE.match(line)
        if var and pending is not None:
            found[var.group("name")] = pending
        if line.strip():
            pending = None if not line.lstrip().startswith("#") else pending
    return found


def parse_file(path: Path) -> dict[str, Any]:
    try:
        with path.open() as handle:
            return dict(hcl2.load(handle))  # type: ignore[attr-defined]
    except Exception as exc:  # hcl2 raises lark errors of several kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(f"{path}: cannot parse HCL: {first}") from exc


def load_module(path: Path, *, require_versions: bool = True) -> ModuleInterface:
    """Parse every `*.tf` file directly in `path` (not examples/ or tests/)."""
    path = Path(path)
    if not path.is_dir():
        raise ConfigurationError(f"{path}: not a module directory")
    files = sorted(p for p in path.glob("*.tf") if not p.name.endswith("_override.tf"))
    if not files:
        raise ConfigurationError(f"{path}: no .tf files")
    interface = ModuleInterface(path=path, files=[p.name for p in files])
    interface.has_versions_tf = (path / "versions.tf").is_file()
    if require_versions and not interface.has_versions_tf:
        raise ConfigurationError(f"{path}: no versions.tf (pin terraform and every provider)")
    for file in files:
        _read_into(interface, file)
    return interface


def _read_into(interface: ModuleInterface, file: Path) -> None:
    # BEGIN SOLUTION
    text = file.read_text()
    data = parse_file(file)
    deprecated = _deprecations(text)
    name = file.name
    for item in data.get("variable", []):
        for var_name, body in item.items():
            default_given = "default" in body
            default = expression(unwrap(body["default"])) if default_given else None
            type_text = unwrap(body.get("type")) if "type" in body else None
            interface.variables[var_name] = Variable(
                name=var_name,
                type=str(type_text) if type_text is not None else None,
                description=unwrap(body["description"]) if "description" in body else None,
                default=default,
                required=not default_given,
                nullable=bool(unwrap(body.get("nullable", True))),
                sensitive=bool(unwrap(body.get("sensitive", False))),
                validations=len(body.get("validation", [])),
                deprecated=deprecated.get(var_name),
                file=name,
                line=int(body.get("__start_line__", 0)),
            )
    for item in data.get("output", []):
        for out_name, body in item.items():
            interface.outputs[out_name] = Output(
                name=out_name,
                description=unwrap(body["description"]) if "description" in body else None,
                sensitive=bool(unwrap(body.get("sensitive", False))),
                file=name,
                line=int(body.get("__start_line__", 0)),
            )
    for kind, prefix in (("resource", ""), ("data", "data.")):
        for item in data.get(kind, []):
            for rtype, named in item.items():
                for rname, body in named.items():
                    address = f"{prefix}{rtype}.{rname}"
                    interface.resources[address] = Block(
                        kind, address, body, name, int(body.get("__start_line__", 0)))
    for item in data.get("module", []):
        for mname, body in item.items():
            address = f"module.{mname}"
            interface.resources[address] = Block(
                "module", address, body, name, int(body.get("__start_line__", 0)))
    for item in data.get("provider", []):
        for pname, body in item.items():
            interface.providers.append(
                Block("provider", pname, body, name, int(body.get("__start_line__", 0))))
    for body in data.get("locals", []):
        interface.locals.append(
            Block("locals", "locals", body, name, int(body.get("__start_line__", 0))))
    for body in data.get("moved", []):
        source, target = unwrap(body.get("from")), unwrap(body.get("to"))
        if isinstance(source, str) and isinstance(target, str):
            interface.moved[source] = target
    for block in data.get("terraform", []):
        if "required_version" in block:
            interface.required_version = str(unwrap(block["required_version"]))
        for providers in block.get("required_providers", []):
            for pname, spec in providers.items():
                if pname.startswith("__"):
                    continue
                spec = unwrap(spec)
                interface.required_providers[pname] = (
                    dict(spec) if isinstance(spec, dict) else {"version": spec})
    # END SOLUTION
