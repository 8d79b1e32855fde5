"""The Automation API driver: its logic through the `Engine` interface with a fake engine,
and end to end with the emulated engine (mocked programs, the real policy pack, a file
backend and a JSON "cloud")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulumiml.automation import OpResult, diff_resources
from pulumiml.config import Settings
from pulumiml.driver import Driver
from pulumiml.errors import OperationError
from pulumiml.project import Project
from pulumiml.spec import StackName
from tests.conftest import edit_stack_file, json_out, keep_clouds, run_cli


class FakeEngine:
    """Records calls; `changes` says which stacks' outputs change on up."""

    def __init__(self, deployed: set[str], changes: dict[str, list[str]] | None = None,
                 fail: set[str] | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.deployed_stacks = deployed
        self.changes = changes or {}
        self.fail = fail or set()

    def _op(self, op: str, stack: StackName) -> OpResult:
        self.calls.append((op, str(stack)))
        if str(stack) in self.fail:
            raise OperationError(f"{stack}: boom")
        return OpResult(str(stack), op, changed_outputs=self.changes.get(str(stack), []))

    def preview(self, stack: StackName, on_output: Any = None) -> OpResult:
        return self._op("preview", stack)

    def up(self, stack: StackName, on_output: Any = None) -> OpResult:
        return self._op("up", stack)

    def destroy(self, stack: StackName, on_output: Any = None) -> OpResult:
        return self._op("destroy", stack)

    def refresh(self, stack: StackName, preview_only: bool = True,
                on_output: Any = None) -> OpResult:
        return self._op("refresh", stack)

    def outputs(self, stack: StackName) -> dict[str, Any]:
        if str(stack) not in self.deployed_stacks:
            raise OperationError("not deployed")
        return {}

    def close(self) -> None:
        pass


def driver(infra: Path, engine: FakeEngine) -> Driver:
    return Driver(Settings(infra_dir=infra, parallelism=2), Project(infra), engine=engine)


def names(*names: str) -> list[StackName]:
    return [StackName.parse(n) for n in names]


@pytest.mark.points(3)
def test_up_all_orders_stacks_and_reports_each(infra: Path):
    engine = FakeEngine(deployed=set())
    stacks = Project(infra).stacks(clouds=["aws", "gcp"], envs=["dev"])
    report = driver(infra, engine).run("up", stacks)
    ups = [s for op, s in engine.calls]
    for cloud in ("aws", "gcp"):
        mine = [s for s in ups if s.startswith(cloud)]
        assert mine == [f"{cloud}-dev-network", f"{cloud}-dev-data", f"{cloud}-dev-ml",
                        f"{cloud}-dev-serving"]
    assert report.order[0] == ["aws-dev-network", "gcp-dev-network"]
    assert report.as_dict()["failed"] == []


@pytest.mark.points(4)
def test_changed_outputs_update_deployed_dependents_and_only_those(infra: Path):
    deployed = {"aws-dev-data", "aws-dev-ml", "aws-dev-serving"}
    engine = FakeEngine(deployed, changes={"aws-dev-network": ["subnet_ids"]})
    report = driver(infra, engine).run("up", names("aws-dev-network"))
    assert [s for _, s in engine.calls] == ["aws-dev-network", "aws-dev-data", "aws-dev-ml",
                                            "aws-dev-serving"]
    reasons = {r.stack: r.reason for r in report.runs}
    assert reasons["aws-dev-data"] == "aws-dev-network outputs changed: subnet_ids"
    assert "aws-dev-network outputs changed" in reasons["aws-dev-serving"]
    quiet = FakeEngine(deployed)
    driver(infra, quiet).run("up", names("aws-dev-network"))
    assert quiet.calls == [("up", "aws-dev-network")]
    no_cascade = FakeEngine(deployed, changes={"aws-dev-network": ["subnet_ids"]})
    driver(infra, no_cascade).run("up", names("aws-dev-network"), cascade=False)
    assert no_cascade.calls == [("up", "aws-dev-network")]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_cascade_follows_a_chain_only_while_outputs_keep_changing(infra: Path):
    deployed = {"aws-dev-data", "aws-dev-ml", "aws-dev-serving"}
    engine = FakeEngine(deployed, changes={"aws-dev-data": ["bucket_ids"]})
    driver(infra, engine).run("up", names("aws-dev-data"))
    assert [s for _, s in engine.calls] == ["aws-dev-data", "aws-dev-ml"]


@pytest.mark.points(2)
def test_extra_references_order_stacks_across_clouds_and_cycles_fail(infra: Path):
    edit_stack_file(infra, "gcp-dev", raw={"pulumiml:references": {"network": ["aws-dev-data"]}})
    engine = FakeEngine(set())
    stacks = Project(infra).stacks(clouds=["aws", "gcp"], envs=["dev"])
    driver(infra, engine).run("up", stacks)
    order = [s for _, s in engine.calls]
    assert order.index("aws-dev-data") < order.index("gcp-dev-network")
    edit_stack_file(infra, "aws-dev", raw={"pulumiml:references": {"network": ["gcp-dev-ml"]}})
    result = run_cli("--infra-dir", str(infra), "stacks", "--env", "dev")
    assert result.exit_code == 6
    assert "stack references form a cycle" in result.stderr


# ------------------------------------------------------------------ emulated engine, e2e


@pytest.fixture
def aws_env(infra: Path, tmp_path: Path) -> dict[str, str]:
    keep_clouds(infra, "aws")
    return {"PULUMIML_INFRA_DIR": str(infra), "PULUMIML_BACKEND_URL": f"file://{tmp_path}/be",
            "PULUMI_CONFIG_PASSPHRASE": "correct horse"}


def checkpoint(env: dict[str, str], stack: str) -> Path:
    backend = Path(env["PULUMIML_BACKEND_URL"][len("file://"):])
    return backend / ".pulumi" / "stacks" / "pulumiml" / f"{stack}.json"


@pytest.mark.points(4)
def test_emulated_lifecycle_up_outputs_refresh_destroy(aws_env: dict[str, str]):
    up = run_cli("up", "--env", "dev", "--json", env=aws_env)
    assert up.exit_code == 0, up.output
    result = json_out(up)
    assert result["order"] == [["aws-dev-network"], ["aws-dev-data"], ["aws-dev-ml"],
                               ["aws-dev-serving"]]
    created = {s["stack"]: s["result"]["changes"] for s in result["stacks"]}
    assert all(set(c) == {"create"} for c in created.values())
    assert "up aws-dev-network: running the program" in up.stderr  # streamed output
    outputs = json_out(run_cli("outputs", "-s", "aws-dev-ml", "--json", env=aws_env))
    assert outputs["registry_url"].endswith(".dkr.ecr.us-east-1.amazonaws.com/mlp-dev-models")
    again = json_out(run_cli("up", "--env", "dev", "--json", env=aws_env))
    assert all(set(s["result"]["changes"]) == {"same"} for s in again["stacks"])
    refreshed = run_cli("refresh", "--env", "dev", "--json", env=aws_env)
    assert refreshed.exit_code == 0 and all(s["result"]["drift"] == []
                                            for s in json_out(refreshed)["stacks"])
    gone = run_cli("destroy", "--env", "dev", "--yes", "--json", env=aws_env)
    assert json_out(gone)["order"][0] == ["aws-dev-serving"]
    assert not checkpoint(aws_env, "aws-dev-network").exists()
    missing = run_cli("outputs", "-s", "aws-dev-ml", env=aws_env)
    assert missing.exit_code == 4 and "not deployed" in missing.stderr


@pytest.mark.points(3)
def test_refresh_reports_out_of_band_changes_as_drift(aws_env: dict[str, str]):
    assert run_cli("up", "--stack", "aws-dev-network", env=aws_env).exit_code == 0
    cloud = Path(aws_env["PULUMIML_BACKEND_URL"][7:]) / ".cloud" / "aws-dev-network.json"
    resources = json.loads(cloud.read_text())
    key_urn = next(u for u, r in resources.items() if r["type"] == "aws:kms/key:Key")
    resources[key_urn]["state"]["enableKeyRotation"] = False
    sg_urn = next(u for u, r in resources.items() if r["type"].endswith("SecurityGroup"))
    del resources[sg_urn]
    cloud.write_text(json.dumps(resources))
    result = run_cli("refresh", "--preview-only", "--stack", "aws-dev-network", "--json",
                     env=aws_env)
    assert result.exit_code == 1 and "drift in 1 stack(s): aws-dev-network" in result.stderr
    drift = {d["urn"]: d for d in json_out(result)["stacks"][0]["result"]["drift"]}
    assert drift[key_urn]["properties"] == {"enableKeyRotation": {"expected": True,
                                                                  "actual": False}}
    assert drift[sg_urn]["change"] == "delete"
    state = json.loads(checkpoint(aws_env, "aws-dev-network").read_text())
    assert any(r["urn"] == sg_urn for r in state["resources"])  # preview-only wrote nothing


@pytest.mark.points(3)
def test_a_mandatory_violation_exits_7_and_deploys_nothing(aws_env: dict[str, str], infra: Path):
    edit_stack_file(infra, "aws-dev", {"training": {"gpu_type": "h100"}})
    assert run_cli("up", "--stack", "aws-dev-network", "--stack", "aws-dev-data",
                   env=aws_env).exit_code == 0
    result = run_cli("up", "--stack", "aws-dev-ml", "--json", env=aws_env)
    assert result.exit_code == 7
    assert "mandatory policy violation" in result.stderr and "gpu-allow-list" in result.stderr
    assert "Traceback" not in result.output
    assert not checkpoint(aws_env, "aws-dev-ml").exists()
    preview = run_cli("preview", "--mock", "--stack", "aws-dev-ml", "--json", env=aws_env)
    assert preview.exit_code == 7
    assert json_out(preview)["policy"]["mandatory"] == 1


@pytest.mark.points(3)
def test_passphrase_missing_or_wrong_is_a_config_error(aws_env: dict[str, str]):
    no_pass = {k: v for k, v in aws_env.items() if k != "PULUMI_CONFIG_PASSPHRASE"}
    result = run_cli("up", "--stack", "aws-dev-network", env=no_pass)
    assert result.exit_code == 3 and "PULUMI_CONFIG_PASSPHRASE is not set" in result.stderr
    assert run_cli("up", "--stack", "aws-dev-network", env=aws_env).exit_code == 0
    wrong = run_cli("outputs", "-s", "aws-dev-network", env={**aws_env,
                                                             "PULUMI_CONFIG_PASSPHRASE": "x"})
    assert wrong.exit_code == 3 and "incorrect passphrase" in wrong.stderr


@pytest.mark.points(2)
def test_up_of_a_stack_whose_reference_is_not_deployed_fails_with_4(aws_env: dict[str, str]):
    result = run_cli("up", "--stack", "aws-dev-serving", env=aws_env)
    assert result.exit_code == 4
    assert "references aws-dev-network, which is not deployed" in result.stderr


@pytest.mark.points(3)
@pytest.mark.hidden
def test_a_spec_change_upstream_updates_its_dependents_for_real(aws_env: dict[str, str],
                                                               infra: Path):
    assert run_cli("up", "--env", "dev", env=aws_env).exit_code == 0
    edit_stack_file(infra, "aws-dev", {"network": {"private_subnets": 3}})
    result = run_cli("up", "--stack", "aws-dev-network", "--json", env=aws_env)
    assert result.exit_code == 0, result.output
    runs = {s["stack"]: s for s in json_out(result)["stacks"]}
    assert runs["aws-dev-network"]["result"]["changed_outputs"] == ["subnet_ids"]
    assert set(runs) == {"aws-dev-network", "aws-dev-data", "aws-dev-ml", "aws-dev-serving"}
    assert runs["aws-dev-ml"]["result"]["changes"].get("update", 0) >= 1
    assert "outputs changed: subnet_ids" in runs["aws-dev-serving"]["reason"]


@pytest.mark.points(1)
@pytest.mark.hidden
def test_change_summary_counts_creates_updates_deletes():
    old = {"a": {"x": 1}, "b": {"x": 1}, "c": {}}
    new = {"a": {"x": 1}, "b": {"x": 2}, "d": {}}
    assert diff_resources(old, new) == {"create": 1, "update": 1, "delete": 1, "same": 1}
    assert diff_resources({}, {}) == {}


@pytest.mark.points(1)
def test_the_real_engine_without_a_cli_is_unavailable(aws_env: dict[str, str],
                                                      monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = run_cli("--engine", "pulumi", "up", "--stack", "aws-dev-network", env=aws_env)
    assert result.exit_code == 5 and "the Pulumi CLI is not on PATH" in result.stderr
