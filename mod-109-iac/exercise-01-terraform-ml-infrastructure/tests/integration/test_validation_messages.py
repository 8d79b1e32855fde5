"""Invalid variable values are refused by the modules' own `validation` blocks, with their
messages. Each module's variables.tf is planned in a root of its own: no resources, so no
provider loads and each plan takes about a second; this is how the GCP and Azure modules'
validations run at all here (their providers cannot be had offline)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from aiinfra_shared.procs.terraform import Terraform

from tests.conftest import MODULES

pytestmark = pytest.mark.integration

CASES = {
    "aws/network": (
        'name = "Bad_Name"\navailability_zones = ["a"]\ntags = { cost-center = "x" }\n',
        "name must be 3-32 characters of lower case letters, digits and dashes"),
    "aws/gpu-compute": (
        'name = "gpu"\nami_id = "ami-0123456789abcdef0"\ninstance_types = ["m5.large"]\n'
        'subnet_ids = []\nsecurity_group_ids = []\ntags = { cost-center = "x" }\n',
        "instance_types must be GPU types of the g4dn, g5, g6, g6e, p4d or p5 families"),
    "aws/state-backend": (
        'bucket_name = "state"\ntags = { owner = "me" }\n',
        "tags must include a cost-center key"),
    # GCP and Azure: variables.tf needs no provider either, so their validations run too
    "gcp/container-registry": (
        'project_id = "p"\nname = "images"\nlocation = "x"\n'
        'kms_key_name = "projects/p/locations/x/keyRings/r/cryptoKeys/k"\n'
        'readers = ["allUsers"]\nlabels = { cost-center = "x" }\n',
        "readers must not include allUsers or allAuthenticatedUsers"),
    "gcp/ml-workspace": (
        'project_id = "p"\nname = "research"\nregion = "x"\nzone = "x"\nnetwork = "n"\n'
        'subnet = "s"\nlabels = { cost-center = "x" }\n',
        "zone must be a GCP zone name such as <region>-a"),
    "azure/container-registry": (
        'name = "ml-images"\nresource_group_name = "rg"\nlocation = "x"\n'
        'tags = { cost-center = "x" }\n',
        "name must be 5-50 letters and digits"),
    "azure/ml-workspace": (
        'name = "research"\nresource_group_name = "rg"\nlocation = "x"\n'
        'isolation_mode = "Disabled"\ntags = { cost-center = "x" }\n',
        "isolation_mode must be AllowInternetOutbound or AllowOnlyApprovedOutbound"),
}


@pytest.mark.points(2)
@pytest.mark.parametrize("module", sorted(CASES))
def test_bad_value_is_refused_with_its_message(tf: Terraform, tmp_path: Path,
                                               module: str) -> None:
    shutil.copy(MODULES / module / "variables.tf", tmp_path / "variables.tf")
    tfvars, message = CASES[module]
    (tmp_path / "terraform.tfvars").write_text(tfvars)
    tf.init(tmp_path)
    result = tf.run("plan", "-input=false", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert "Invalid value for variable" in result.stderr + result.stdout
    assert message in " ".join((result.stderr + result.stdout).split())


@pytest.mark.points(2)
def test_lint_runs_terraform_validate_on_aws_modules(tf: Terraform, tfml_work_dir: Path,
                                                     tmp_path: Path) -> None:
    """`tfml lint` (validate on): an undeclared variable is a VALIDATE finding, exit 1."""
    from tests.conftest import invoke

    module = tmp_path / "modules" / "aws" / "container-registry"
    shutil.copytree(MODULES / "aws" / "container-registry", module,
                    ignore=shutil.ignore_patterns(".terraform*", "examples", "tests"))
    main = module / "main.tf"
    main.write_text(main.read_text().replace("var.keep_images", "var.keep_image_count"))
    result = invoke("--modules-dir", str(tmp_path / "modules"), "lint",
                    env={"TFML_WORK_DIR": str(tfml_work_dir)})
    assert result.exit_code == 1
    assert "VALIDATE" in result.output
    assert "Reference to undeclared input variable" in result.output
