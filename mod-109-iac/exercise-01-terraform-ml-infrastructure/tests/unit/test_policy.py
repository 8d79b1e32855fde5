"""The YAML policy gate, suppressions and the severity threshold (checkov: integration)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, MODULES, POLICIES, invoke
from tfml.policy import (
    PolicyFinding,
    Suppression,
    apply_suppressions,
    load_policies,
    scan_plan,
)


def _policy(*args: str, policies: Path = POLICIES, modules: Path = MODULES) -> tuple[int, str]:
    result = invoke("--modules-dir", str(modules), "policy", "--no-checkov", *args,
                    env={"TFML_POLICIES_DIR": str(policies)})
    return result.exit_code, result.output


@pytest.mark.points(3)
def test_the_library_passes_its_own_policies() -> None:
    code, out = _policy()
    assert code == 0, out
    assert "0 finding(s)" in out


@pytest.mark.points(4)
def test_a_planted_untagged_public_bucket_fails_the_gate() -> None:
    code, out = _policy(modules=FIXTURES / "untagged")
    assert code == 1
    assert "TFML-TAG-001 aws/bucket/main.tf::aws_s3_bucket.planted" in out
    assert "TFML-PUB-003" in out and "'public-read'" in out
    assert "TFML-KMS-001" in out and "'AES256'" in out
    assert "TFML-GPU-001" in out and "m5.large" in out
    assert "policy gate failed" in out


@pytest.mark.points(2)
def test_severity_threshold_decides_what_blocks() -> None:
    code, out = _policy("--severity", "CRITICAL", "--json", modules=FIXTURES / "untagged")
    report = json.loads(out.split("\nerror:")[0])
    assert code == 1
    assert {f["id"] for f in report["blocking"]} == {"TFML-PUB-003"}
    assert len(report["findings"]) > len(report["blocking"])


@pytest.mark.points(3)
def test_every_suppression_needs_a_reason_and_an_expiry(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    (policies / "suppressions.yaml").write_text(
        "suppressions:\n  - id: TFML-TAG-001\n    resource: '*'\n    expires: 2099-01-01\n")
    code, out = _policy(policies=policies)
    assert code == 3
    assert "needs a reason" in out
    (policies / "suppressions.yaml").write_text(
        "suppressions:\n  - id: TFML-TAG-001\n    resource: '*'\n    reason: because\n")
    code, out = _policy(policies=policies)
    assert code == 3
    assert "needs an expiry" in out


@pytest.mark.hidden
@pytest.mark.points(2)
def test_an_expired_suppression_stops_applying() -> None:
    finding = PolicyFinding("CKV_AWS_18", "logging", "MEDIUM", "checkov",
                            "aws/object-store/main.tf", "aws_s3_bucket.this")
    live = Suppression("CKV_AWS_18", "*object-store*", "central logs", dt.date(2030, 1, 1))
    old = Suppression("CKV_AWS_18", "*object-store*", "central logs", dt.date(2020, 1, 1))
    today = dt.date(2026, 12, 1)
    assert apply_suppressions([finding], [live], "MEDIUM", today).ok
    report = apply_suppressions([finding], [old], "MEDIUM", today)
    assert not report.ok and report.expired == [old]
    other = Suppression("CKV_AWS_18", "*state-backend*", "central logs", dt.date(2030, 1, 1))
    assert not apply_suppressions([finding], [other], "MEDIUM", today).ok


@pytest.mark.points(2)
def test_plan_values_are_checked_including_default_tags() -> None:
    def change(address: str, after: dict[str, object], unknown: dict[str, object]) -> dict:
        return {"address": address, "mode": "managed", "type": address.split(".")[-2],
                "change": {"actions": ["create"], "after": after, "after_unknown": unknown}}

    plan = {"resource_changes": [
        change("module.a.aws_s3_bucket.this", {"tags": {}, "tags_all": {"cost-center": "ml"}},
               {}),
        change("module.a.aws_s3_bucket.other", {"tags": {"team": "x"},
                                                "tags_all": {"team": "x"}}, {}),
        change("module.a.aws_sagemaker_endpoint_configuration.known_later",
               {"tags": {"cost-center": "ml"}}, {"kms_key_arn": True}),
        change("module.a.aws_sagemaker_endpoint_configuration.missing",
               {"tags": {"cost-center": "ml"}, "kms_key_arn": None}, {}),
    ]}
    findings = scan_plan(plan, "plan.json", load_policies(POLICIES))
    failing = {(f.id, f.resource) for f in findings}
    assert ("TFML-TAG-002", "module.a.aws_s3_bucket.other") in failing
    assert not any(r == "module.a.aws_s3_bucket.this" for _, r in failing)
    assert ("TFML-KMS-003", "module.a.aws_sagemaker_endpoint_configuration.missing") in failing
    assert not any(r.endswith("known_later") for _, r in failing)
