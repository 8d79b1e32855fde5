"""The library's layout and its examples, checked statically on every cloud.

The google and azurerm providers cannot be had offline, so nothing GCP or Azure is ever
validated or planned here. What `terraform validate` would catch in an example (an argument
the module does not declare, a required input left out, provider constraints that cannot be
met together) is checked on the parsed HCL instead, for every `examples/*` of every module and
for `terraform/examples/multi-cloud`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.conftest import MODULES, MULTI_CLOUD, POLICIES
from tfml.docs import BEGIN, END
from tfml.hcl import ModuleInterface, load_module, unwrap
from tfml.layout import discover
from tfml.lint import check_interface, lint_example
from tfml.policy import load_policies, scan_hcl
from tfml.runner import fmt_check

SHARED = ("network", "object-store", "container-registry", "ml-workspace")
EXPECTED = ({f"aws/{n}" for n in ("network", "object-store", "container-registry",
                                  "ml-serving", "gpu-compute", "state-backend")}
            | {f"{cloud}/{n}" for cloud in ("gcp", "azure") for n in SHARED})
META_ARGUMENTS = {"source", "version", "providers", "depends_on", "count", "for_each"}
EXAMPLES = sorted({p.parent for p in MODULES.glob("*/*/examples/*/*.tf")} | {MULTI_CLOUD})


def _example_id(path: Path) -> str:
    return path.as_posix().split("terraform/", 1)[-1]


def _module_calls(root: Path) -> dict[str, tuple[Path, set[str]]]:
    """module name -> (resolved local source, the arguments it passes)."""
    calls = {}
    for address, block in load_module(root, require_versions=False).resources.items():
        if block.kind != "module":
            continue
        source = str(unwrap(block.body["source"]))
        assert source.startswith("../"), f"{root}: {address} has a non-local source {source}"
        arguments = {k for k in block.body if not k.startswith("__")} - META_ARGUMENTS
        calls[address] = ((root / source).resolve(), arguments)
    return calls


def _satisfiable(constraints: list[str]) -> bool:
    """Whether some version meets every constraint (`>= 6.0, < 7.0`, `~> 5.0`): if any does,
    one of the lower bounds does."""
    specs = [SpecifierSet(c.replace(" ", "").replace("~>", "~=")) for c in constraints]
    candidates = {Version(m) for c in constraints
                  for m in re.findall(r"(?:>=|~>|=)\s*([\d.]+)", c)}
    return any(all(v in s for s in specs) for v in candidates)


@pytest.mark.points(2)
def test_every_cloud_has_its_modules_each_complete() -> None:
    modules = discover(MODULES)
    assert {m.key for m in modules} == EXPECTED
    for module in modules:
        names = {p.name for p in module.path.iterdir()}
        assert {"versions.tf", "variables.tf", "main.tf", "outputs.tf", "README.md",
                "CHANGELOG.md"} <= names, module.key
        # examples/basic (required inputs) and examples/complete (every optional input too)
        examples = {p.parent.name for p in module.path.glob("examples/*/main.tf")}
        assert examples == {"basic", "complete"}, module.key
        readme = (module.path / "README.md").read_text()
        assert all(f"[`examples/{e}`](examples/{e})" in readme for e in examples), module.key
        assert readme.count("](examples/") == len(examples), module.key  # no dead links
        assert readme.startswith(f"# {module.name} ({module.cloud})") and BEGIN in readme
        assert END in readme and "## [Unreleased]" in (module.path / "CHANGELOG.md").read_text()
        interface = load_module(module.path)
        assert interface.variables and interface.outputs, module.key
        label = "tags" if module.cloud in ("aws", "azure") else "labels"
        assert interface.variables[label].validations >= 1, module.key  # cost-center


def _interface_problems(example: Path) -> list[str]:
    calls = _module_calls(example)
    if not calls:
        return [f"{_example_id(example)} calls no module"]
    problems = []
    root = load_module(example, require_versions=False)
    for address, (source, arguments) in calls.items():
        where = f"{_example_id(example)}: {address}"
        interface: ModuleInterface = load_module(source)
        if unknown := arguments - set(interface.variables):
            problems.append(f"{where}: arguments the module does not declare: {sorted(unknown)}")
        if missing := {v.name for v in interface.variables.values() if v.required} - arguments:
            problems.append(f"{where}: required inputs not given: {sorted(missing)}")
        for name, spec in interface.required_providers.items():
            if name not in root.required_providers:
                problems.append(f"{where}: no required_providers.{name} in the example")
                continue
            wanted = [str(spec["version"]), str(root.required_providers[name]["version"])]
            if not _satisfiable(wanted):
                problems.append(f"{where}: {name} {wanted} cannot both be met")
    return problems


@pytest.mark.points(3)
def test_examples_call_modules_with_their_interface() -> None:
    """What `terraform validate` would say of every example's module calls, on every cloud."""
    assert len(EXAMPLES) == 2 * len(EXPECTED) + 1  # basic + complete per module, multi-cloud
    problems = [p for example in EXAMPLES for p in _interface_problems(example)]
    assert problems == []


@pytest.mark.points(2)
def test_complete_examples_use_every_input_of_their_module() -> None:
    """examples/complete shows every optional input of its module (what it is for), and
    examples/basic none it does not need: only the required inputs, or a few more."""
    for module in discover(MODULES):
        interface = load_module(module.path)
        required = {v.name for v in interface.variables.values() if v.required}
        calls = {source: arguments for source, arguments
                 in _module_calls(module.path / "examples" / "complete").values()}
        assert calls.get(module.path.resolve()) == set(interface.variables), module.key
        basic = {source: arguments for source, arguments
                 in _module_calls(module.path / "examples" / "basic").values()}
        assert required <= basic[module.path.resolve()] < set(interface.variables), module.key


@pytest.mark.points(3)
def test_every_example_is_lint_and_policy_clean() -> None:
    """The HCL lint rules and the YAML policies on every example's own resources (an example
    is a root: it configures its providers and pins them in main.tf, no versions.tf)."""
    policies = load_policies(POLICIES)
    problems = []
    for example in EXAMPLES:
        rel = _example_id(example)
        problems += [f.format() for f in lint_example(example, rel)]
        problems += [f.format() for f in scan_hcl(example, rel, policies)]
    assert problems == []


@pytest.mark.points(1)
def test_every_example_is_formatted() -> None:
    assert fmt_check([MODULES]) == []


@pytest.mark.points(3)
def test_multi_cloud_example_uses_every_module_of_every_cloud() -> None:
    calls = _module_calls(MULTI_CLOUD)
    used = {f"{p.parent.name}/{p.name}" for p, _ in calls.values()}
    assert used == EXPECTED
    root = load_module(MULTI_CLOUD)  # versions.tf required here
    assert set(root.required_providers) == {"aws", "google", "azurerm"}
    for provider in root.required_providers:
        constraints = [str(root.required_providers[provider]["version"])]
        for source, _ in calls.values():
            spec = load_module(source).required_providers.get(provider)
            constraints += [str(spec["version"])] if spec else []
        assert _satisfiable(constraints), f"{provider}: {constraints}"
    # a root configures its providers (TFML010 is for reusable modules); nothing else may fire
    findings = [f for f in check_interface(root, "examples/multi-cloud") if f.rule != "TFML010"]
    assert findings == [], [f.format() for f in findings]
    assert scan_hcl(MULTI_CLOUD, "examples/multi-cloud", load_policies(POLICIES)) == []
    assert fmt_check([MULTI_CLOUD]) == []


@pytest.mark.hidden
@pytest.mark.points(1)
def test_a_broken_example_is_reported(tmp_path: Path) -> None:
    """The interface check is not vacuous: an undeclared argument, a missing required input
    and provider constraints that cannot be met together are each reported."""
    example = tmp_path / "modules" / "gcp" / "container-registry" / "examples" / "basic"
    shutil.copytree(MODULES / "gcp" / "container-registry", example.parents[1],
                    ignore=shutil.ignore_patterns(".terraform*"))
    main = example / "main.tf"
    text = main.read_text().replace("  kms_key_name = google_kms_crypto_key.images.id\n",
                                    "  kms_key      = google_kms_crypto_key.images.id\n")
    main.write_text(text.replace('">= 6.0, < 8.0"', '">= 5.30, < 6.0"'))
    problems = "\n".join(_interface_problems(example))
    assert "does not declare: ['kms_key']" in problems
    assert "required inputs not given: ['kms_key_name']" in problems
    assert "cannot both be met" in problems
    assert _satisfiable(["~> 5.0", ">= 5.60, < 6.0"]) and not _satisfiable(["~> 6.1", "< 6.0"])
