"""The policy pack runs for real: started as a subprocess the way the engine starts it (it
serves the analyzer gRPC protocol on loopback and prints its port), then GetAnalyzerInfo,
Configure, Analyze and AnalyzeStack with the stubs in pulumi.runtime.proto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import empty_pb2

from pulumiml.mockrun import Registration
from pulumiml.policy.client import AnalyzerClient, merge_policy_config
from pulumiml.project import Project
from pulumiml.spec import StackName
from tests.conftest import INFRA, custom, edit_stack_file, mock_stacks

DEFAULTS = {"encryption-at-rest": "mandatory", "no-public-storage": "mandatory",
            "cost-tags": "advisory", "gpu-allow-list": "mandatory",
            "no-wildcard-iam": "mandatory", "private-endpoints": "advisory",
            "buckets-versioned": "mandatory"}


def resource(type_: str, inputs: dict, name: str = "r1") -> Registration:
    return Registration(urn=f"urn:pulumi:s::pulumiml::{type_}::{name}", type=type_, name=name,
                        custom=True, parent="", dependencies=[], property_dependencies={},
                        inputs=inputs, state=inputs)


def levels_config(**overrides: str) -> dict:
    return merge_policy_config(DEFAULTS, overrides)


@pytest.mark.points(3)
def test_analyzer_info_lists_every_policy_with_its_default_level(analyzer: AnalyzerClient):
    info = analyzer.stub.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "pulumiml-guardrails" and info.supportsConfig
    assert analyzer.default_levels() == DEFAULTS
    types = {p.name: p.policy_type for p in info.policies}
    assert types["buckets-versioned"] != types["encryption-at-rest"]
    assert analyzer.port > 0


@pytest.mark.points(2)
@pytest.mark.parametrize("type_, good, bad, policy", [
    ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
     {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                         "kmsMasterKeyId": "arn:k"}}]},
     {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
     "encryption-at-rest"),
    ("gcp:storage/bucket:Bucket",
     {"encryption": {"defaultKmsKeyName": "k"}, "publicAccessPrevention": "enforced",
      "uniformBucketLevelAccess": True, "labels": {"team": "t", "cost-center": "c"}},
     {"encryption": {"defaultKmsKeyName": "k"}, "publicAccessPrevention": "inherited",
      "uniformBucketLevelAccess": True, "labels": {"team": "t", "cost-center": "c"}},
     "no-public-storage"),
    ("azure-native:storage:BlobContainer", {"publicAccess": "None"}, {"publicAccess": "Blob"},
     "no-public-storage"),
    ("aws:iam/rolePolicy:RolePolicy",
     {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                           "Resource": ["arn:b"]}]})},
     {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*",
                                           "Resource": "*"}]})},
     "no-wildcard-iam"),
    ("gcp:projects/iAMMember:IAMMember", {"role": "roles/storage.objectViewer"},
     {"role": "roles/editor"}, "no-wildcard-iam"),
    ("aws:batch/computeEnvironment:ComputeEnvironment",
     {"computeResources": {"instanceTypes": ["g4dn.xlarge"]},
      "tags": {"team": "t", "cost-center": "c"}},
     {"computeResources": {"instanceTypes": ["p5.48xlarge"]},
      "tags": {"team": "t", "cost-center": "c"}}, "gpu-allow-list"),
])
def test_analyze_passes_compliant_and_flags_violating_resources(
        analyzer: AnalyzerClient, type_: str, good: dict, bad: dict, policy: str):
    config = levels_config()
    analyzer.configure(config)
    assert analyzer.analyze("s", resource(type_, good)) == []
    diagnostics = analyzer.analyze("s", resource(type_, bad, "bad"))
    assert [(d.policy, d.level) for d in diagnostics] == [(policy, "mandatory")]
    assert diagnostics[0].urn.endswith("::bad")


@pytest.mark.points(3)
def test_cost_tags_are_advisory_by_default_and_mandatory_when_configured(analyzer):
    untagged = resource("aws:s3/bucket:Bucket", {"bucket": "b", "tags": {"team": "t"}})
    analyzer.configure(levels_config())
    [advice] = analyzer.analyze("s", untagged)
    assert (advice.policy, advice.level) == ("cost-tags", "advisory")
    assert "cost-center" in advice.message
    analyzer.configure(merge_policy_config(DEFAULTS, {"cost-tags": {
        "enforcementLevel": "mandatory", "requiredTags": ["team", "owner"]}}))
    [blocking] = analyzer.analyze("s", untagged)
    assert blocking.level == "mandatory" and "owner" in blocking.message
    assert "cost-center" not in blocking.message
    analyzer.configure(merge_policy_config(DEFAULTS, {"cost-tags": "disabled"}))
    assert analyzer.analyze("s", untagged) == []


@pytest.mark.points(3)
def test_analyze_stack_requires_every_bucket_to_be_versioned(analyzer: AnalyzerClient):
    analyzer.configure(levels_config())
    bucket = resource("aws:s3/bucket:Bucket", {"bucket": "data"}, "data")
    versioning = Registration(
        urn="urn:pulumi:s::pulumiml::aws:s3/bucketVersioning:BucketVersioning::v", name="v",
        type="aws:s3/bucketVersioning:BucketVersioning", custom=True, parent="",
        dependencies=[bucket.urn], property_dependencies={"bucket": [bucket.urn]},
        inputs={"bucket": "data", "versioningConfiguration": {"status": "Enabled"}},
        state={"bucket": "data", "versioningConfiguration": {"status": "Enabled"}})
    assert analyzer.analyze_stack("s", [bucket, versioning]) == []
    [violation] = analyzer.analyze_stack("s", [bucket])
    assert (violation.policy, violation.level, violation.urn) == (
        "buckets-versioned", "mandatory", bucket.urn)
    gcs = resource("gcp:storage/bucket:Bucket", {"name": "g", "versioning": {"enabled": False}})
    assert [d.policy for d in analyzer.analyze_stack("s", [gcs])] == ["buckets-versioned"]


@pytest.mark.points(3)
def test_the_shipped_platform_passes_and_prod_policy_is_stricter(analyzer: AnalyzerClient):
    project = Project(INFRA)
    results = mock_stacks(INFRA, "azure-prod-network", "gcp-dev-serving")
    for name, result in results.items():
        config = merge_policy_config(DEFAULTS, *project.policy_layers(StackName.parse(name)))
        report = analyzer.evaluate(name, result.registrations, config)
        assert report.diagnostics == [], report.diagnostics
        assert report.evaluations == sum(1 for r in result.registrations
                                         if r.custom and not r.read) + 1
    prod_layers = project.policy_layers(StackName.parse("gcp-prod-serving"))
    prod = merge_policy_config(DEFAULTS, *prod_layers)
    findings = analyzer.evaluate("gcp-dev-serving", results["gcp-dev-serving"].registrations, prod)
    assert [(d.policy, d.level) for d in findings.diagnostics] == [
        ("private-endpoints", "mandatory")]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_per_stack_overrides_win_over_the_env_file(analyzer: AnalyzerClient, infra: Path):
    edit_stack_file(infra, "aws-prod", raw={"pulumiml:policy": {
        "gpu-allow-list": {"allowedGpus": ["t4"]}}})
    project = Project(infra)
    result = mock_stacks(infra, "aws-prod-ml")["aws-prod-ml"]
    config = merge_policy_config(DEFAULTS, *project.policy_layers(StackName.parse("aws-prod-ml")))
    report = analyzer.evaluate("aws-prod-ml", result.registrations, config)
    assert [d.policy for d in report.mandatory] == ["gpu-allow-list"]
    assert "a100" in report.mandatory[0].message
    [compute] = custom(result, "aws:batch/computeEnvironment:ComputeEnvironment")
    assert report.mandatory[0].urn == compute.urn


@pytest.mark.points(1)
@pytest.mark.hidden
def test_unknown_policies_and_levels_in_config_are_config_errors():
    from pulumiml.errors import SpecError
    with pytest.raises(SpecError, match="unknown policy 'gpu-allowlist'"):
        merge_policy_config(DEFAULTS, {"gpu-allowlist": "advisory"})
    with pytest.raises(SpecError, match="unknown level 'strict'"):
        merge_policy_config(DEFAULTS, {"cost-tags": "strict"})
    assert merge_policy_config(DEFAULTS, {"all": "disabled"})["no-wildcard-iam"] == {
        "enforcementLevel": "disabled"}


@pytest.mark.points(1)
@pytest.mark.hidden
def test_a_pack_that_cannot_start_is_reported_as_unavailable():
    from pulumiml.errors import EngineUnavailableError
    client = AnalyzerClient(command=["python3", "-c", "import sys; sys.exit('boom')"])
    with pytest.raises(EngineUnavailableError, match="exited before serving: boom"):
        client.start()
