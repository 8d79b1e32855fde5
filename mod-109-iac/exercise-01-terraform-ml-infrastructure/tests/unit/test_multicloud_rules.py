"""The lint rules and the YAML policies hold on the GCP and Azure modules too: a planted
hard-coded region or an untyped variable in any of them fails `tfml lint`, and planted
public, unencrypted, unlabelled GCP and Azure resources fail the policy gate."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, MODULES, POLICIES, invoke
from tfml.layout import discover

OTHER_CLOUDS = sorted(m.key for m in discover(MODULES) if m.cloud != "aws")
REGION = {"gcp": "europe-west4", "azure": "uksouth"}


@pytest.mark.points(1)
@pytest.mark.parametrize("key", OTHER_CLOUDS)
def test_a_planted_region_and_untyped_variable_fail_lint(tmp_path: Path, key: str) -> None:
    cloud = key.split("/")[0]
    target = tmp_path / "modules" / key
    shutil.copytree(MODULES / key, target, ignore=shutil.ignore_patterns("examples", "tests"))
    main = target / "main.tf"
    text, count = re.subn(r"var\.(region|location)\b", f'"{REGION[cloud]}"', main.read_text(),
                          count=1)
    assert count == 1, f"{key}: main.tf uses neither var.region nor var.location"
    main.write_text(text)
    variables = target / "variables.tf"
    variables.write_text(re.sub(r"\n  type += [^\n]+", "", variables.read_text(), count=1))
    result = invoke("--modules-dir", str(tmp_path / "modules"), "lint", "--no-validate",
                    "--no-fmt")
    assert result.exit_code == 1
    assert re.search(rf"{key}/main\.tf:\d+: TFML007 .*hard-coded region '{REGION[cloud]}'",
                     result.output), result.output
    assert re.search(rf"{key}/variables\.tf:\d+: TFML002 variable '\w+' has no type",
                     result.output), result.output


@pytest.mark.hidden
@pytest.mark.points(3)
def test_planted_gcp_and_azure_resources_fail_the_gate() -> None:
    result = invoke("--modules-dir", str(FIXTURES / "untagged-multicloud"), "policy",
                    "--no-checkov", env={"TFML_POLICIES_DIR": str(POLICIES)})
    out = result.output
    assert result.exit_code == 1
    for rule, resource in [
        ("TFML-TAG-004", "google_artifact_registry_repository.planted"),
        ("TFML-KMS-005", "google_artifact_registry_repository.planted"),
        ("TFML-PUB-010", "google_artifact_registry_repository_iam_member.public"),
        ("TFML-PUB-009", "google_workbench_instance.planted"),
        ("TFML-KMS-006", "google_vertex_ai_tensorboard.planted"),
        ("TFML-TAG-001", "azurerm_container_registry.planted"),
        ("TFML-PUB-006", "azurerm_container_registry.planted"),
        ("TFML-PUB-007", "azurerm_container_registry.planted"),
        ("TFML-PUB-008", "azurerm_machine_learning_workspace.planted"),
        ("TFML-KMS-007", "azurerm_machine_learning_workspace.planted"),
    ]:
        assert re.search(rf"{rule} \S+::{re.escape(resource)}:", out), (rule, out)
    assert "'allUsers'" in out
    assert "policy gate failed" in out
