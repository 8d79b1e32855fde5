"""README tables from the HCL, the way terraform-docs writes them, and a staleness check.

The generated part sits between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`; anything
outside the markers is the author's. `# tfml:deprecated NOTE` above a variable reaches the
Inputs table: Terraform itself has no variable deprecation (hashicorp/terraform#34395).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_text

from tfml.errors import ConfigurationError
from tfml.hcl import ModuleInterface, load_module

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


@dataclass(frozen=True)
class DocsResult:
    module: Path
    readme: Path
    stale: bool
    written: bool


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _default(value: Any) -> str:
    return "`" + _cell(json.dumps(value, sort_keys=True)) + "`"


def render(interface: ModuleInterface) -> str:
    """The generated block (markers included): requirements, resources, inputs, outputs."""
    # BEGIN SOLUTION
    lines = [BEGIN, "## Requirements", "", "| Name | Version |", "|------|---------|"]
    if interface.required_version:
        lines.append(f"| terraform | `{_cell(interface.required_version)}` |")
    for name, spec in sorted(interface.required_providers.items()):
        version = spec.get("version")
        lines.append(f"| {name} | `{_cell(str(version))}` |" if version else f"| {name} | n/a |")
    resources = sorted(a for a in interface.resources if not a.startswith("module."))
    modules = sorted(a for a in interface.resources if a.startswith("module."))
    lines += ["", "## Resources", ""]
    lines += [f"- `{address}`" for address in resources] or ["No resources."]
    if modules:
        lines += ["", "## Modules", ""] + [f"- `{address}`" for address in modules]
    lines += ["", "## Inputs", ""]
    if interface.variables:
        lines += ["| Name | Description | Type | Default | Required |",
                  "|------|-------------|------|---------|:--------:|"]
        # required first, then alphabetical (terraform-docs' `sort-by required`)
        ordered = sorted(interface.variables.values(), key=lambda v: (not v.required, v.name))
        for var in ordered:
            description = _cell(var.description or "")
            if var.deprecated:
                description = f"**Deprecated:** {_cell(var.deprecated)}. {description}".strip()
            default = "n/a" if var.required else _default(var.default)
            type_text = f"`{_cell(var.type)}`" if var.type else "any"
            lines.append(f"| {var.name} | {description} | {type_text} | {default} | "
                         f"{'yes' if var.required else 'no'} |")
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if interface.outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        for out in sorted(interface.outputs.values(), key=lambda o: o.name):
            lines.append(f"| {out.name} | {_cell(out.description or '')} |")
    else:
        lines.append("No outputs.")
    lines.append(END)
    return "\n".join(lines)
    # END SOLUTION


def splice(readme_text: str, block: str) -> str:
    """Replace what lies between the markers; append the block when there are none."""
    if readme_text.count(BEGIN) > 1 or readme_text.count(END) > 1:
        raise ConfigurationError("the README holds more than one BEGIN_TF_DOCS/END_TF_DOCS pair")
    if BEGIN in readme_text and END in readme_text:
        head, rest = readme_text.split(BEGIN, 1)
        if END not in rest:
            raise ConfigurationError("END_TF_DOCS comes before BEGIN_TF_DOCS in the README")
        _, tail = rest.split(END, 1)
        return head + block + tail
    if BEGIN in readme_text or END in readme_text:
        raise ConfigurationError("the README has only one of BEGIN_TF_DOCS / END_TF_DOCS")
    return readme_text.rstrip("\n") + ("\n\n" if readme_text.strip() else "") + block + "\n"


def update_module_docs(module: Path, *, check: bool = False) -> DocsResult:
    """Regenerate `module/README.md`; with `check`, report staleness and write nothing."""
    interface = load_module(module)
    readme = module / "README.md"
    current = readme.read_text() if readme.is_file() else f"# {module.name}\n"
    try:
        wanted = splice(current, render(interface))
    except ConfigurationError as exc:
        raise ConfigurationError(f"{readme}: {exc}") from exc
    stale = wanted != current
    if stale and not check:
        atomic_write_text(readme, wanted)
    return DocsResult(module=module, readme=readme, stale=stale, written=stale and not check)
