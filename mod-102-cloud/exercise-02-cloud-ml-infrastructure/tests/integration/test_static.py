"""Static checks that need no cloud: fmt, `terraform test` with a mocked AWS provider,
validate, checkov on all three clouds (offline), interface parity and the env layout.

GCP and Azure providers cannot be downloaded on these machines: their stacks are checked
here only (README: "What is real and what is emulated").
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import hcl2  # the module checkov brings (python-hcl2 would shadow it and break checkov)
import pytest
import yaml
from aiinfra_shared.procs.terraform import Terraform

from cloudml.cli import cli
from cloudml.layout import CLOUDS, ENVS

from .conftest import TERRAFORM

EXERCISE = TERRAFORM.parent
RUNBOOKS = EXERCISE / "docs" / "runbooks"
BACKENDS = {"aws": "s3", "gcp": "gcs", "azure": "azurerm"}

pytestmark = pytest.mark.integration


@cache
def parse(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return dict(hcl2.load(handle))


def clean(value: Any) -> Any:
    """checkov's hcl2 wraps attribute values in one-element lists and adds line numbers."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list) and len(value) == 1:
        return clean(value[0])
    return value


def blocks(directory: Path, kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in parse(path).get(kind, []):
            found.update(block)
    return {name.strip('"'): clean(body) for name, body in found.items()}


def tfvars(path: Path) -> dict[str, Any]:
    return dict(clean(parse(path)))


@pytest.mark.points(2)
def test_fmt_check_all_clouds(terraform: Terraform) -> None:
    result = terraform.run("fmt", "-check", "-recursive", "-diff", cwd=TERRAFORM, check=False)
    assert result.returncode == 0, result.stdout


@pytest.mark.points(6)
def test_module_logic_with_mock_provider(terraform: Terraform, tmp_path: Path) -> None:
    module = shutil.copytree(TERRAFORM / "modules/aws/ml-platform", tmp_path / "module")
    terraform.init(module)
    report = terraform.test(module)
    assert report.status == "pass", report.diagnostics or report.result.tail()
    assert set(report.runs.values()) == {"pass"}
    assert {name.split("::")[1] for name in report.runs} == {
        "dev_is_small_and_disposable", "prod_is_highly_available_and_protected",
        "no_wildcard_actions", "budget_can_be_left_out", "invalid_cidr_is_rejected",
        "invalid_instance_type_is_rejected"}


def runbook_hcl(name: str) -> str:
    text = (RUNBOOKS / name).read_text()
    match = re.search(r"```hcl\n(.*?)```", text, re.S)
    assert match, f"{name} has no hcl block"
    return match.group(1)


@pytest.mark.hidden
@pytest.mark.points(3)
def test_prod_root_and_import_runbook_validate(terraform: Terraform, tmp_path: Path) -> None:
    tree = shutil.copytree(TERRAFORM, tmp_path / "terraform",
                           ignore=shutil.ignore_patterns(".terraform*"))
    root = tree / "envs/aws/prod"
    (root / "imports.tf").write_text(runbook_hcl("import-resource.md"))
    terraform.init(root, "-backend=false")
    verdict = terraform.validate(root)
    assert verdict["valid"], verdict["diagnostics"]


@pytest.mark.slow
@pytest.mark.points(4)
def test_checkov_all_clouds_offline() -> None:
    skips = yaml.safe_load((TERRAFORM / "checkov-skips.yaml").read_text())
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in skips.values())
    checkov = Path(sys.executable).parent / "checkov"
    result = subprocess.run(
        [str(checkov), "-d", str(TERRAFORM), "--framework", "terraform", "--skip-download",
         "--compact", "-o", "json", "--skip-check", ",".join(skips)],
        capture_output=True, text=True, timeout=300, check=False)
    reports = json.loads(result.stdout)
    summary = (reports[0] if isinstance(reports, list) else reports)["summary"]
    failed = [f"{c['check_id']} {c['resource']}" for r in
              (reports if isinstance(reports, list) else [reports])
              for c in r["results"]["failed_checks"]]
    assert failed == []
    assert summary["parsing_errors"] == 0 and summary["passed"] > 150
    files = {c["file_path"] for r in (reports if isinstance(reports, list) else [reports])
             for c in r["results"]["passed_checks"]}
    for cloud in CLOUDS:
        assert any(f"/modules/{cloud}/" in path for path in files), f"{cloud} not scanned"


@pytest.mark.points(4)
def test_one_interface_on_three_clouds() -> None:
    variables = {c: set(blocks(TERRAFORM / f"modules/{c}/ml-platform", "variable"))
                 for c in CLOUDS}
    outputs = {c: set(blocks(TERRAFORM / f"modules/{c}/ml-platform", "output")) for c in CLOUDS}
    assert variables["aws"] == variables["gcp"] == variables["azure"]
    assert outputs["aws"] == outputs["gcp"] == outputs["azure"]
    assert {"artifact_bucket", "registry_url", "serving_endpoint"} <= outputs["aws"]


@pytest.mark.points(3)
@pytest.mark.parametrize("cloud", CLOUDS)
def test_env_roots_wire_the_module_and_a_partial_backend(cloud: str) -> None:
    module_vars = blocks(TERRAFORM / f"modules/{cloud}/ml-platform", "variable")
    required = {name for name, body in module_vars.items() if "default" not in body}
    for env in ENVS:
        root = TERRAFORM / "envs" / cloud / env
        main = clean(parse(root / "main.tf"))
        backend = main["terraform"]["backend"]
        assert list(backend) == [BACKENDS[cloud]] and backend[BACKENDS[cloud]] == {}
        call = main["module"]["platform"]
        assert set(call) - {"source"} == set(module_vars)
        values = tfvars(root / "terraform.tfvars")
        assert required <= set(values), f"{cloud}/{env} tfvars miss {required - set(values)}"
        assert values["environment"] == env
        assert set(blocks(root, "output")) == set(blocks(root.parent.parent.parent /
                                                         f"modules/{cloud}/ml-platform",
                                                         "output"))


@pytest.mark.hidden
@pytest.mark.points(2)
@pytest.mark.parametrize("cloud", CLOUDS)
def test_envs_differ_in_size_ha_and_protection(cloud: str) -> None:
    env = {e: tfvars(TERRAFORM / "envs" / cloud / e / "terraform.tfvars") for e in ENVS}
    assert (env["dev"]["high_availability"], env["prod"]["high_availability"]) == (False, True)
    assert (env["dev"]["deletion_protection"], env["prod"]["deletion_protection"]) == (False,
                                                                                      True)
    assert env["staging"]["deletion_protection"] is True
    assert env["prod"]["serving_instance_count"] >= 2 > env["dev"]["serving_instance_count"]
    assert env["dev"]["serving_instance_type"] != env["prod"]["serving_instance_type"]
    cidrs = {env[e]["network_cidr"] for e in ENVS}
    assert len(cidrs) == 3, "envs need distinct CIDRs (peering, VPN)"


@pytest.mark.points(2)
def test_runbooks_exist_and_their_commands_parse() -> None:
    names = {"bootstrap", "promote", "rollback", "stuck-lock", "rotate-keys",
             "import-resource", "destroy-env"}
    assert {p.stem for p in RUNBOOKS.glob("*.md")} == names
    checked = 0
    for path in RUNBOOKS.glob("*.md"):
        for line in path.read_text().splitlines():
            command = re.sub(r"^\s*(CLOUDML_\w+=\S+\s+)*", "", line)
            if not command.startswith("cloudml "):
                continue
            args = re.findall(r'"[^"]*"|\S+', command.split("#")[0])[1:]
            args = [a.strip('"').replace("<id>", "x") for a in args]
            ctx = cli.make_context("cloudml", list(args), resilient_parsing=False)
            sub = cli
            while ctx.protected_args or ctx.args:  # walk groups down to the command
                rest = [*ctx.protected_args, *ctx.args]
                sub = sub.get_command(ctx, rest[0])  # type: ignore[attr-defined]
                assert sub is not None, f"{path.name}: unknown command in {line!r}"
                ctx = sub.make_context(rest[0], rest[1:], parent=ctx)
            checked += 1
    assert checked >= 20
