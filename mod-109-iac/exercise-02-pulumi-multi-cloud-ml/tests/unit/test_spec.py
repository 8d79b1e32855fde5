"""The typed platform spec: valid files load, bad values give one line per field and exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumiml.errors import SpecError, UnknownStackError
from pulumiml.project import Project
from pulumiml.spec import Cloud, Env, Layer, StackName, parse_stack_file, standard_tags
from tests.conftest import INFRA, edit_stack_file, run_cli


@pytest.mark.points(2)
def test_every_shipped_stack_file_is_valid_and_named_after_its_cloud_and_env():
    project = Project(INFRA)
    assert len(project.cloud_envs()) == 9
    for cloud_env in project.cloud_envs():
        spec = project.stack_file(cloud_env).spec
        assert f"{spec.cloud.value}-{spec.env.value}" == cloud_env
    prod = project.stack_file("aws-prod").spec
    assert prod.network.private_endpoints is True and prod.retention.keep_on_destroy is True
    assert len(project.stacks()) == 36


@pytest.mark.points(3)
def test_bad_values_give_one_line_per_field(infra: Path):
    path = edit_stack_file(infra, "aws-dev", {
        "network": {"cidr": "8.8.8.0/24"},
        "serving": {"min_replicas": 5, "max_replicas": 2},
        "training": {"gpu_type": "tpu-v5"},
        "buckets": [{"name": "Data!"}],
    })
    with pytest.raises(SpecError) as caught:
        parse_stack_file(path)
    lines = str(caught.value).splitlines()
    fields = [line.split(": ")[2] for line in lines]
    assert sorted(fields) == ["buckets.0.name", "network.cidr", "serving", "training.gpu_type"]
    assert all(line.startswith(f"{path}: pulumiml:platform: ") for line in lines)
    assert any("min_replicas (5) is above max_replicas (2)" in line for line in lines)
    assert any("private (RFC 1918)" in line for line in lines)


@pytest.mark.points(1)
@pytest.mark.parametrize("cloud_env, instance_type, accepted", [
    ("aws-dev", "ml.g5.xlarge", True), ("aws-dev", "Standard_DS3_v2", False),
    ("gcp-dev", "n1-standard-4", True), ("gcp-dev", "ml.m5.large", False),
    ("azure-dev", "Standard_NC4as_T4_v3", True), ("azure-dev", "n1-standard-4", False),
])
def test_serving_instance_type_must_belong_to_the_cloud(infra: Path, cloud_env: str,
                                                        instance_type: str, accepted: bool):
    path = edit_stack_file(infra, cloud_env, {"serving": {"instance_type": instance_type}})
    if accepted:
        assert parse_stack_file(path).spec.serving.instance_type == instance_type
    else:
        with pytest.raises(SpecError, match=r"is not a .* instance type"):
            parse_stack_file(path)


@pytest.mark.points(1)
@pytest.mark.hidden
def test_a_file_whose_name_disagrees_with_its_cloud_is_refused(infra: Path):
    edit_stack_file(infra, "aws-dev", {"cloud": "gcp",
                                       "serving": {"instance_type": "n1-standard-4"}})
    with pytest.raises(SpecError, match=r"must be named Pulumi\.gcp-dev\.yaml"):
        parse_stack_file(infra / "Pulumi.aws-dev.yaml")


@pytest.mark.points(2)
def test_stack_names_parse_and_name_their_references():
    stack = StackName.parse("organization/pulumiml/gcp-prod-serving")
    assert (stack.cloud, stack.env, stack.layer) == (Cloud.GCP, Env.PROD, Layer.SERVING)
    assert [str(s) for s in stack.references] == ["gcp-prod-network", "gcp-prod-ml"]
    assert stack.fully_qualified() == "organization/pulumiml/gcp-prod-serving"
    for bad, message in (("aws-dev", "expected <cloud>-<env>-<layer>"),
                         ("ibm-dev-network", "unknown cloud 'ibm'"),
                         ("aws-qa-network", "unknown env 'qa'"),
                         ("aws-dev-cache", "unknown layer 'cache'")):
        with pytest.raises(UnknownStackError, match=message):
            StackName.parse(bad)


@pytest.mark.points(1)
def test_tagging_convention_adds_project_env_layer_to_the_spec_tags():
    spec = Project(INFRA).stack_file("azure-staging").spec
    tags = standard_tags(spec, Layer.DATA)
    assert tags["team"] == "ml-platform" and tags["cost-center"] == "cc-4242"
    assert (tags["project"], tags["env"], tags["layer"], tags["managed-by"]) == (
        "pulumiml", "staging", "data", "pulumi")


@pytest.mark.points(2)
def test_cli_bad_config_exits_3_with_one_line_per_field_and_no_traceback(infra: Path):
    edit_stack_file(infra, "aws-dev", {"network": {"private_subnets": 9},
                                       "region": "US East"})
    result = run_cli("--infra-dir", str(infra), "preview", "--mock", "--stack", "aws-dev-network")
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert "network.private_subnets: Input should be less than or equal to 6" in result.stderr
    assert "region: Value error" in result.stderr
    assert result.stderr.startswith("error: ")


@pytest.mark.points(1)
@pytest.mark.parametrize("args, code, message", [
    (["--stack", "aws-dev-cache"], 2, "unknown layer 'cache'"),
    (["--cloud", "ibm"], 2, "unknown cloud 'ibm'"),
    (["--stack", "aws-qa-network"], 2, "unknown env 'qa'"),
    ([], 2, "choose stacks"),
])
def test_cli_unknown_stack_or_cloud_exits_2(infra: Path, args: list[str], code: int, message: str):
    result = run_cli("--infra-dir", str(infra), "preview", "--mock", *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output


@pytest.mark.points(1)
@pytest.mark.hidden
def test_a_missing_stack_file_is_a_usage_error_naming_the_files_there(infra: Path):
    (infra / "Pulumi.gcp-prod.yaml").unlink()
    result = run_cli("--infra-dir", str(infra), "preview", "--mock", "--stack", "gcp-prod-ml")
    assert result.exit_code == 2
    assert "no stack file Pulumi.gcp-prod.yaml" in result.stderr and "aws-dev" in result.stderr


@pytest.mark.points(1)
@pytest.mark.hidden
def test_extra_references_must_name_real_layers_and_stacks(infra: Path):
    edit_stack_file(infra, "gcp-dev", raw={"pulumiml:references": {"serving": ["aws-dev-dat"]}})
    with pytest.raises(SpecError, match=r"pulumiml:references\.serving: .*unknown layer 'dat'"):
        parse_stack_file(infra / "Pulumi.gcp-dev.yaml")
