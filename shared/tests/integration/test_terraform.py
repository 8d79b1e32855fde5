"""The terraform fixtures run the real CLI offline: providers from the filesystem mirror,
`terraform test` with a mocked provider, and plan/apply/destroy against moto."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from aiinfra_shared.procs.services import MotoServer
from aiinfra_shared.procs.terraform import (
    Terraform,
    TerraformTimeoutError,
    moto_provider_hcl,
    terraform_files,
)

pytestmark = pytest.mark.integration

REQUIRED_AWS = """\
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}
"""

BUCKET_MODULE = REQUIRED_AWS + """\
variable "name" {
  type = string
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "${var.name}-artifacts"
  tags   = { team = "ml-platform" }
}

output "bucket_arn" {
  value = aws_s3_bucket.artifacts.arn
}
"""

MOCKED_TESTS = """\
mock_provider "aws" {}

variables {
  name = "demo"
}

run "bucket_is_suffixed" {
  command = plan
  assert {
    condition     = aws_s3_bucket.artifacts.bucket == "demo-artifacts"
    error_message = "the bucket name must end in -artifacts"
  }
}

run "wrong_expectation" {
  command = plan
  assert {
    condition     = aws_s3_bucket.artifacts.tags["team"] == "nobody"
    error_message = "deliberately failing assertion"
  }
}
"""


@pytest.mark.slow
def test_terraform_test_with_mock_provider_runs_offline(terraform: Terraform,
                                                        tmp_path: Path) -> None:
    terraform_files(tmp_path, {"main.tf": BUCKET_MODULE,
                               "tests/bucket.tftest.hcl": MOCKED_TESTS})
    init = terraform.init(tmp_path)
    assert "Terraform has been successfully initialized" in init.stdout
    lock = (tmp_path / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock

    report = terraform.test(tmp_path)
    assert report.runs == {"tests/bucket.tftest.hcl::bucket_is_suffixed": "pass",
                           "tests/bucket.tftest.hcl::wrong_expectation": "fail"}
    assert report.status == "fail"
    assert report.summary["passed"] == 1 and report.summary["failed"] == 1
    assert any("deliberately failing assertion" in d for d in report.diagnostics)


@pytest.mark.slow
def test_plan_apply_destroy_an_s3_bucket_on_moto(terraform_moto: Terraform,
                                                 moto_server: MotoServer,
                                                 tmp_path: Path) -> None:
    name = f"tf-{uuid.uuid4().hex[:8]}"
    terraform_files(tmp_path, {"main.tf": BUCKET_MODULE, "provider.tf": moto_provider_hcl()})
    terraform_moto.init(tmp_path)

    terraform_moto.plan(tmp_path, f"-var=name={name}", out="tfplan")
    plan = terraform_moto.show_json(tmp_path, "tfplan")
    changes = {c["address"]: c["change"]["actions"] for c in plan["resource_changes"]}
    assert changes == {"aws_s3_bucket.artifacts": ["create"]}

    terraform_moto.apply(tmp_path, plan_file="tfplan")
    s3 = moto_server.client("s3")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert f"{name}-artifacts" in buckets
    tags = s3.get_bucket_tagging(Bucket=f"{name}-artifacts")["TagSet"]
    assert {"Key": "team", "Value": "ml-platform"} in tags
    assert terraform_moto.output_json(tmp_path) == {
        "bucket_arn": f"arn:aws:s3:::{name}-artifacts"}
    state = terraform_moto.show_json(tmp_path)
    addresses = [r["address"] for r in state["values"]["root_module"]["resources"]]
    assert addresses == ["aws_s3_bucket.artifacts"]

    terraform_moto.destroy(tmp_path, f"-var=name={name}")
    assert f"{name}-artifacts" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_a_command_past_its_timeout_is_killed(terraform: Terraform, tmp_path: Path) -> None:
    terraform_files(tmp_path, {"main.tf": REQUIRED_AWS})
    started = time.monotonic()
    with pytest.raises(TerraformTimeoutError, match="ran past"):
        terraform.with_timeout(0.05).init(tmp_path)
    assert time.monotonic() - started < 15


def test_cli_config_names_the_mirror_and_no_network(terraform: Terraform) -> None:
    text = terraform.config_file.read_text()
    assert "filesystem_mirror" in text
    assert '"registry.terraform.io/hashicorp/aws"' in text
    assert "direct" not in text  # offline: a provider missing from the mirror fails at once
    env = terraform.environment()
    assert env["TF_CLI_CONFIG_FILE"] == str(terraform.config_file)
    assert env["TF_IN_AUTOMATION"] == "1" and env["CHECKPOINT_DISABLE"] == "1"
