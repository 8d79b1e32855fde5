"""The real Automation API path (LocalWorkspace, file:// backend, passphrase secrets, the
policy pack as `policy_packs`) against moto. Needs the Pulumi CLI and the aws plugin, which
cannot be installed here: run with `AIINFRA_RUN_EXTERNAL=1` where `pulumi` is on PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import EXERCISE, json_out, keep_clouds, run_cli

pytestmark = [pytest.mark.integration]


@pytest.mark.points(1)
@pytest.mark.external(reason="the Pulumi CLI (and its aws plugin) cannot be installed here",
                      requires=["pulumi"])
def test_up_outputs_destroy_through_the_automation_api_against_moto(
        infra: Path, tmp_path: Path, moto_server):
    keep_clouds(infra, "aws")
    env = {"PULUMIML_INFRA_DIR": str(infra), "PULUMIML_ENGINE": "pulumi",
           "PULUMIML_BACKEND_URL": f"file://{tmp_path}/backend",
           "PULUMIML_WORK_DIR": str(tmp_path / "work"),
           "PULUMIML_POLICY_PACK_DIR": str(EXERCISE / "policypack"),
           "PULUMI_CONFIG_PASSPHRASE": "external", "AWS_ENDPOINT_URL": moto_server.endpoint_url,
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", **{k: v for k, v in os.environ.items()
                                                 if k.startswith("PULUMI_HOME")}}
    up = run_cli("up", "--stack", "aws-dev-network", "--json", env=env)
    assert up.exit_code == 0, up.output
    assert json_out(up)["stacks"][0]["result"]["changes"]["create"] >= 5
    outputs = json_out(run_cli("outputs", "-s", "aws-dev-network", "--json", env=env))
    assert outputs["network_id"].startswith("vpc-")
    assert run_cli("destroy", "--stack", "aws-dev-network", "--yes", env=env).exit_code == 0
