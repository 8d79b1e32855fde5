"""Which stacks a change touches (the PR preview runs only those)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from pulumiml.affected import affected_stacks, git_base_reader
from pulumiml.project import Project
from tests.conftest import edit_stack_file, json_out, run_cli


def stack_names(result) -> list[str]:
    return [str(s) for s in result.stacks]


@pytest.mark.points(2)
def test_a_stack_file_without_a_base_touches_its_four_layers(infra: Path):
    result = affected_stacks(Project(infra), ["infra/Pulumi.aws-dev.yaml"])
    assert stack_names(result) == ["aws-dev-network", "aws-dev-data", "aws-dev-ml",
                                   "aws-dev-serving"]


@pytest.mark.points(3)
def test_with_a_base_only_changed_sections_and_their_dependents_count(infra: Path):
    base = yaml.safe_load((infra / "Pulumi.gcp-staging.yaml").read_text())
    edit_stack_file(infra, "gcp-staging", {"serving": {"max_replicas": 7}})
    project = Project(infra)
    result = affected_stacks(project, ["infra/Pulumi.gcp-staging.yaml"], lambda _: base)
    assert stack_names(result) == ["gcp-staging-serving"]
    edit_stack_file(infra, "gcp-staging", {"buckets": [{"name": "data", "retention_days": 9}]})
    result = affected_stacks(Project(infra), ["infra/Pulumi.gcp-staging.yaml"], lambda _: base)
    assert stack_names(result) == ["gcp-staging-data", "gcp-staging-ml", "gcp-staging-serving"]
    assert result.reasons["gcp-staging-ml"] == "references gcp-staging-data"


@pytest.mark.points(2)
def test_code_and_policy_changes_touch_the_stacks_they_feed(infra: Path):
    project = Project(infra)
    azure = affected_stacks(project, ["mod-109-iac/x/src/pulumiml/components/azure.py"])
    assert {s.cloud.value for s in azure.stacks} == {"azure"} and len(azure.stacks) == 12
    assert len(affected_stacks(project, ["src/pulumiml/components/base.py"]).stacks) == 36
    prod = affected_stacks(project, ["infra/policy/prod.json"])
    assert {s.env.value for s in prod.stacks} == {"prod"} and len(prod.stacks) == 12
    assert affected_stacks(project, ["README.md", "tests/unit/test_spec.py"]).stacks == []


@pytest.mark.points(2)
@pytest.mark.hidden
def test_base_ref_is_read_from_git(infra: Path, tmp_path: Path):
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@e", "-c", "user.name=t", "add", "infra")
    git("-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "base")
    edit_stack_file(infra, "aws-prod", {"registry": {"scan_on_push": False}})
    reader = git_base_reader(tmp_path, "HEAD")
    result = affected_stacks(Project(infra), ["infra/Pulumi.aws-prod.yaml"], reader)
    assert stack_names(result) == ["aws-prod-ml", "aws-prod-serving"]
    cli = run_cli("--infra-dir", str(infra), "affected", "--base-ref", "HEAD", "--json",
                  "infra/Pulumi.aws-prod.yaml")
    assert json_out(cli)["stacks"] == ["aws-prod-ml", "aws-prod-serving"]
