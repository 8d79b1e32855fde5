"""Runbooks that run for real on a one-bucket "prod" env: roll back a bad apply (restore the
previous state version from the versioned bucket), a stale plan refused, a prod delete that
needs --allow-destroy and the typed confirmation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cloudml.layout import Target

from .conftest import Harness

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PROD = Target("aws", "prod")
BUCKET = "cloudml-rollback-prod-artifacts"
MAIN_TF = f"""
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
  backend "s3" {{}}
}}

provider "aws" {{
  region = "us-east-1"
}}

variable "release" {{
  type = string
}}

resource "aws_s3_bucket" "artifacts" {{
  bucket        = "{BUCKET}"
  force_destroy = true
  tags          = {{ release = var.release }}
}}
"""


def release_tag(harness: Harness) -> str:
    tags = harness.client("s3").get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    return {t["Key"]: t["Value"] for t in tags}["release"]


def set_release(tree: Path, release: str) -> None:
    (tree / "envs/aws/prod/terraform.tfvars").write_text(f'release = "{release}"\n')


@pytest.fixture(scope="module")
def prod(harness_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Harness:
    tree = tmp_path_factory.mktemp("onebucket") / "terraform"
    (tree / "envs/aws/prod").mkdir(parents=True)
    (tree / "envs/aws/prod/main.tf").write_text(MAIN_TF)
    set_release(tree, "v1")
    harness: Harness = harness_factory("prod", tree)
    assert harness.cli("state", "bootstrap").exit_code == 0
    return harness


def plan_and_apply(harness: Harness) -> None:
    planned = harness.cli("plan", "--cloud", "aws", "--env", "prod")
    assert planned.exit_code == 0, planned.output
    applied = harness.cli("apply", "--cloud", "aws", "--env", "prod")
    assert applied.exit_code == 0, applied.output


@pytest.mark.points(3)
def test_stale_plan_is_refused(prod: Harness) -> None:
    planned = prod.cli("plan", "--cloud", "aws", "--env", "prod")
    assert planned.exit_code == 0, planned.output
    # the same values, but the file changed after the review: the plan is not what was read
    (prod.tree / "envs/aws/prod/terraform.tfvars").write_text('release = "v1" # edited\n')
    refused = prod.cli("apply", "--cloud", "aws", "--env", "prod")
    assert refused.exit_code == 6
    assert "configuration of aws/prod changed since it was planned" in refused.output
    assert BUCKET not in {b["Name"] for b in prod.client("s3").list_buckets()["Buckets"]}
    set_release(prod.tree, "v1")  # back to the reviewed file: the saved plan applies
    applied = prod.cli("apply", "--cloud", "aws", "--env", "prod")
    assert applied.exit_code == 0, applied.output
    assert release_tag(prod) == "v1"


@pytest.mark.points(5)
def test_rollback_runbook_restores_the_previous_state_version(prod: Harness) -> None:
    before = [v.version_id for v in prod.platform().versions(PROD)]
    set_release(prod.tree, "v2-bad")
    plan_and_apply(prod)  # the bad apply
    assert release_tag(prod) == "v2-bad"
    after = prod.platform().versions(PROD)
    assert len(after) > len(before)
    # runbook step 1: restore the state from before the bad apply (a copy: history is kept)
    rolled = prod.cli("state", "rollback", "--cloud", "aws", "--env", "prod", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert f"restored aws/prod state version {before[0]}" in rolled.output
    current = prod.platform().versions(PROD)
    assert len(current) == len(after) + 1
    state = prod.client("s3").get_object(Bucket=prod.bucket, Key="aws/prod/terraform.tfstate")
    assert b'"release": "v1"' in state["Body"].read()
    # step 2: check out the previous configuration, plan (shows the bad change reverted), apply
    set_release(prod.tree, "v1")
    planned = prod.cli("plan", "--cloud", "aws", "--env", "prod")
    assert planned.exit_code == 0
    assert "0 to create, 1 to update, 0 to replace, 0 to delete" in planned.output
    assert prod.cli("apply", "--cloud", "aws", "--env", "prod").exit_code == 0
    assert release_tag(prod) == "v1"


@pytest.mark.points(4)
def test_prod_destroy_needs_flag_and_typed_confirmation(prod: Harness) -> None:
    wrong = prod.cli("destroy", "--cloud", "aws", "--env", "prod", "--allow-destroy",
                     "--confirm", "yes")
    assert wrong.exit_code == 2, wrong.output
    assert "type 'destroy aws-prod'" in wrong.output
    assert release_tag(prod) == "v1"  # nothing was applied
    # the destroy plan is saved: applying it still needs both
    flagless = prod.cli("apply", "--cloud", "aws", "--env", "prod")
    assert flagless.exit_code == 2 and "--allow-destroy" in flagless.output
    done = prod.cli("apply", "--cloud", "aws", "--env", "prod", "--allow-destroy",
                    "--confirm", "destroy aws-prod")
    assert done.exit_code == 0, done.output
    assert BUCKET not in {b["Name"] for b in prod.client("s3").list_buckets()["Buckets"]}
