"""The AWS dev env, once per run on moto: bootstrap, plan, apply, verify, drift, destroy.

Tests run in file order and share one deployment (module fixture): each terraform command
loads a ~670 MB provider, so the whole lifecycle is paid for once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloudml.layout import Target, lock_key
from cloudml.operations import ApplyOutcome, PlanOutcome

from .conftest import MOTO_VARS, Harness

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DEV = Target("aws", "dev")
INTERFACE_OUTPUTS = {"artifact_bucket", "data_bucket", "registry_url", "serving_endpoint",
                     "notebook_name", "network_id", "private_subnet_ids", "encryption_key_id",
                     "identities", "alert_topic"}


class Deployment:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.planned: PlanOutcome | None = None
        self.applied: ApplyOutcome | None = None
        self.outputs: dict[str, Any] = {}
        self.destroyed = False


@pytest.fixture(scope="module")
def dev(harness_factory: Any) -> Iterator[Deployment]:
    harness: Harness = harness_factory("dev")
    deployment = Deployment(harness)
    boot = harness.cli("state", "bootstrap")
    assert boot.exit_code == 0, boot.output
    platform = harness.platform()
    deployment.planned = platform.plan(DEV, MOTO_VARS)
    deployment.applied = platform.apply(DEV)
    deployment.outputs = platform.outputs(DEV)
    yield deployment
    if not deployment.destroyed:  # a failed test must not leave the env behind
        platform.destroy(DEV, MOTO_VARS)


@pytest.mark.points(3)
def test_bootstrap_runbook_makes_a_safe_state_bucket(dev: Deployment) -> None:
    s3 = dev.harness.client("s3")
    bucket = dev.harness.bucket
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert rule["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(s3.get_public_access_block(Bucket=bucket)[
        "PublicAccessBlockConfiguration"].values())
    again = dev.harness.cli("state", "bootstrap", "--json")
    assert again.exit_code == 0 and json.loads(again.output)["created"] is False
    state = s3.get_object(Bucket=bucket, Key="aws/dev/terraform.tfstate")["Body"].read()
    assert json.loads(state)["resources"], "the S3 backend holds the dev state"


@pytest.mark.points(3)
def test_first_apply_plan_summary_and_cost(dev: Deployment) -> None:
    assert dev.planned is not None and dev.applied is not None
    summary = dev.planned.summary
    assert summary.counts["create"] >= 40
    assert summary.destroys == 0 and summary.flagged == []
    # dev: 1 x ml.t2.medium + 30 GB, notebook ml.t3.medium + 20 GB, one NAT + its IP, a key,
    # two alarms (prices of cloudml/pricing/aws-us-east-1.yaml, 730 h)
    expected = (0.056 * 730 + 30 * 0.14) + (0.05 * 730 + 20 * 0.14) + 0.045 * 730 \
        + 0.005 * 730 + 1.0 + 2 * 0.10
    assert dev.planned.cost.total == pytest.approx(expected, abs=0.01)
    assert dev.planned.cost.unpriced == []


@pytest.mark.points(4)
def test_replan_after_apply_is_empty(dev: Deployment) -> None:
    root = dev.harness.tree / "envs/aws/dev"
    tf = dev.harness.runner.with_env(TF_DATA_DIR=str(dev.harness.work / "aws-dev/.terraform"))
    result = tf.run("plan", "-input=false", "-detailed-exitcode", "-var=enable_budget=false",
                    cwd=root, check=False)
    assert result.returncode == 0, result.tail()


@pytest.mark.points(3)
def test_network_spans_two_zones_with_private_subnets(dev: Deployment) -> None:
    ec2 = dev.harness.client("ec2")
    vpc_id = dev.outputs["network_id"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    tiers = {s["SubnetId"]: {t["Key"]: t["Value"] for t in s["Tags"]}["tier"] for s in subnets}
    assert sorted(tiers.values()) == ["private", "private", "public", "public"]
    private = [s for s in subnets if tiers[s["SubnetId"]] == "private"]
    assert len({s["AvailabilityZone"] for s in private}) == 2
    assert {s["SubnetId"] for s in private} == set(dev.outputs["private_subnet_ids"])
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    assert len([n for n in nats["NatGateways"] if n["State"] == "available"]) == 1
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    assert [e["ServiceName"] for e in endpoints["VpcEndpoints"]] == ["com.amazonaws.us-east-1.s3"]


@pytest.mark.points(3)
def test_buckets_and_registry_are_encrypted_versioned_private(dev: Deployment) -> None:
    s3, key_arn = dev.harness.client("s3"), dev.outputs["encryption_key_id"]
    for bucket in (dev.outputs["artifact_bucket"], dev.outputs["data_bucket"]):
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        default = s3.get_bucket_encryption(Bucket=bucket)[
            "ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
        assert all(s3.get_public_access_block(Bucket=bucket)[
            "PublicAccessBlockConfiguration"].values())
    kms = dev.harness.client("kms")
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    repo = dev.harness.client("ecr").describe_repositories()["repositories"][0]
    assert repo["repositoryUri"] == dev.outputs["registry_url"]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"


@pytest.mark.points(4)
def test_roles_trust_and_least_privilege(dev: Deployment) -> None:
    iam = dev.harness.client("iam")
    identities = dev.outputs["identities"]
    assert set(identities) == {"training", "serving", "ci"}
    for job, arn in identities.items():
        name = arn.rsplit("/", 1)[1]
        trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        principals = [s["Principal"] for s in trust["Statement"]]
        if job == "ci":
            assert principals == [{"AWS": "arn:aws:iam::123456789012:root"}]
        else:
            assert principals == [{"Service": "sagemaker.amazonaws.com"}]
        (policy_name,) = iam.list_role_policies(RoleName=name)["PolicyNames"]
        document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        for statement in document["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert "*" not in action, f"{job}: wildcard action {action}"
                assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action)


@pytest.mark.points(3)
def test_sagemaker_serving_and_notebook(dev: Deployment) -> None:
    sm = dev.harness.client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName=dev.outputs["serving_endpoint"])
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    variant = config["ProductionVariants"][0]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.t2.medium", 1)
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["DestinationS3Uri"] == f"s3://{dev.outputs['data_bucket']}/capture"
    model = sm.describe_model(ModelName=variant["ModelName"])
    assert model["ExecutionRoleArn"] == dev.outputs["identities"]["serving"]
    assert set(model["VpcConfig"]["Subnets"]) == set(dev.outputs["private_subnet_ids"])
    notebook = sm.describe_notebook_instance(NotebookInstanceName=dev.outputs["notebook_name"])
    assert notebook["DirectInternetAccess"] == "Disabled"
    assert notebook["RootAccess"] == "Disabled"
    alarms = dev.harness.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {a["MetricName"] for a in alarms} == {"Invocation5XXErrors", "ModelLatency"}
    assert all(a["AlarmActions"] == [dev.outputs["alert_topic"]] for a in alarms)


@pytest.mark.points(2)
def test_output_command(dev: Deployment) -> None:
    result = dev.harness.cli("output", "--cloud", "aws", "--env", "dev", "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == INTERFACE_OUTPUTS


@pytest.mark.points(5)
def test_drift_is_reported_after_an_out_of_band_change(dev: Deployment) -> None:
    clean = dev.harness.cli("drift", "--cloud", "aws", "--env", "dev")
    assert clean.exit_code == 0, clean.output
    assert clean.output.strip() == "aws/dev: no drift"
    # a hand edit in the console: rotation switched off, SSH opened on the workloads group
    dev.harness.client("kms").disable_key_rotation(KeyId=dev.outputs["encryption_key_id"])
    ec2 = dev.harness.client("ec2")
    group = ec2.describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["mlp-dev-workloads"]}])["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    drifted = dev.harness.cli("drift", "--cloud", "aws", "--env", "dev", "--json")
    assert drifted.exit_code == 1, drifted.output
    report = json.loads(drifted.output)
    by_address = {r["address"]: r["attributes"] for r in report["resources"]}
    assert by_address == {
        "module.platform.aws_kms_key.this": ["enable_key_rotation"],
        "module.platform.aws_security_group.workloads": ["ingress"],
    }


@pytest.mark.hidden
@pytest.mark.points(3)
def test_invalid_cidr_is_refused_before_anything_changes(dev: Deployment) -> None:
    result = dev.harness.cli("plan", "--cloud", "aws", "--env", "dev", "--var",
                             "enable_budget=false", "--var", "network_cidr=10.0.0.0/8")
    assert result.exit_code == 3, result.output
    assert result.output.strip() == ("error: aws/dev: invalid variable: network_cidr must be "
                                     "a valid IPv4 CIDR between /16 and /22, e.g. "
                                     "10.20.0.0/16.")
    assert not (dev.harness.work / "aws-dev" / "tfplan").exists()


@pytest.mark.hidden
@pytest.mark.points(4)
def test_held_lock_then_stuck_lock_release(dev: Deployment) -> None:
    s3 = dev.harness.client("s3")
    key = lock_key(DEV)

    def hold(minutes_ago: float) -> None:
        created = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
        s3.put_object(Bucket=dev.harness.bucket, Key=key, Body=json.dumps({
            "ID": "4f1c-held", "Operation": "OperationTypeApply", "Info": "",
            "Who": "ci@runner-7", "Version": "1.11.4", "Created": created,
            "Path": f"{dev.harness.bucket}/aws/dev/terraform.tfstate"}).encode())

    hold(1)  # someone's apply is running
    blocked = dev.harness.cli("plan", "--cloud", "aws", "--env", "dev")
    assert blocked.exit_code == 6, blocked.output
    assert "locked (ID 4f1c-held, by ci@runner-7)" in blocked.output
    refused = dev.harness.cli("state", "unlock", "--cloud", "aws", "--env", "dev")
    assert refused.exit_code == 6 and "running apply" in refused.output
    hold(60)  # the runner died an hour ago: the lock is stuck (runbook: release a stuck lock)
    released = dev.harness.cli("state", "unlock", "--cloud", "aws", "--env", "dev")
    assert released.exit_code == 0, released.output
    assert dev.harness.cli("state", "lock", "--cloud", "aws", "--env", "dev").output.strip() \
        == "not locked"


@pytest.mark.points(3)
def test_destroy_dev(dev: Deployment) -> None:
    result = dev.harness.cli("destroy", "--cloud", "aws", "--env", "dev", "--var",
                             "enable_budget=false")
    assert result.exit_code == 0, result.output
    dev.destroyed = True
    assert re.match(r"destroyed aws/dev: 4\d resource\(s\)", result.output)
    buckets = {b["Name"] for b in dev.harness.client("s3").list_buckets()["Buckets"]}
    assert not {dev.outputs["artifact_bucket"], dev.outputs["data_bucket"]} & buckets
    ec2 = dev.harness.client("ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id",
                                       "Values": [dev.outputs["network_id"]]}])["Vpcs"] == []
