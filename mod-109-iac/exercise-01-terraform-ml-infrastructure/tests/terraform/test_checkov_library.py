"""checkov on the HCL of all three clouds and on the multi-cloud example, offline, with the
library's suppressions.

checkov runs once, in the background from the first integration test (`checkov_library`);
the CLI path of `tfml policy` is covered in tests/unit/test_policy.py and on a plan in
test_complete_on_moto.py.
"""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from tests.conftest import POLICIES
from tfml.policy import PolicyFinding, apply_suppressions, load_suppressions

pytestmark = pytest.mark.integration


@pytest.mark.points(4)
def test_checkov_passes_on_every_cloud_with_the_suppressions(
        checkov_library: Future[list[PolicyFinding]]) -> None:
    findings = checkov_library.result(timeout=600)
    # checkov really ran and found what the suppressions explain, on each cloud
    ids = {f.id for f in findings}
    assert {"CKV_AWS_144", "CKV2_AZURE_1", "CKV_GCP_62"} <= ids
    # ... including the workspace modules (their Key Vault and storage checks)
    assert {"CKV2_AZURE_32", "CKV_AZURE_189"} <= ids
    assert any(f.path.startswith("azure/ml-workspace/") for f in findings)
    assert {f.path.split("/")[0] for f in findings} == {"aws", "gcp", "azure"}
    report = apply_suppressions(findings, load_suppressions(POLICIES / "suppressions.yaml"),
                                "MEDIUM")
    assert report.ok, [f.format() for f in report.blocking]
    assert report.expired == []


@pytest.mark.points(2)
def test_checkov_passes_on_the_multi_cloud_example(
        checkov_multi_cloud: Future[list[PolicyFinding]]) -> None:
    findings = checkov_multi_cloud.result(timeout=600)
    # checkov followed the module calls into every cloud's modules
    assert {f.path.split("/")[0] for f in findings} == {"aws", "gcp", "azure"}
    assert any(f.resource.startswith("module.azure_workspace.") for f in findings)
    report = apply_suppressions(findings, load_suppressions(POLICIES / "suppressions.yaml"),
                                "MEDIUM")
    assert report.ok, [f.format() for f in report.blocking]
