"""GitOps workflows: they pass actionlint, and every pulumiml command they run is run here
(mock preview for the PR; the deploy and drift commands on the emulated engine)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXERCISE, edit_stack_file, keep_clouds, run_cli

pytestmark = [pytest.mark.integration]
WORKFLOWS = EXERCISE / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def pulumiml_commands(workflow: str) -> list[tuple[str, str]]:
    """(job, command line) for every `uv run pulumiml ...` line, in job order."""
    data = yaml.safe_load((WORKFLOWS / workflow).read_text())
    found = []
    for job_name, job in data["jobs"].items():
        for step in job["steps"]:
            for line in str(step.get("run", "")).splitlines():
                if "uv run pulumiml " in line:
                    found.append((job_name, line.strip()))
    return found


def run_line(line: str, variables: dict[str, str], env: dict[str, str]) -> int:
    """Run one workflow line in process: `uv run` dropped, `${VAR}` expanded, `> file` kept."""
    command, _, target = line.partition(" > ")
    for name, value in variables.items():
        command = command.replace("${" + name + "}", value)
    args = shlex.split(command)
    assert args[:3] == ["uv", "run", "pulumiml"], line
    result = run_cli(*args[3:], env=env)
    if target:
        Path(target.strip()).write_text(result.stdout)
    return result.exit_code


@pytest.mark.points(2)
def test_workflows_pass_actionlint(tmp_path: Path):
    result = subprocess.run([str(ACTIONLINT), *sorted(map(str, WORKFLOWS.glob("*.yml")))],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    broken = tmp_path / "deploy.yml"
    broken.write_text((WORKFLOWS / "deploy.yml").read_text().replace("needs: dev", "needs: dve"))
    assert subprocess.run([str(ACTIONLINT), str(broken)], capture_output=True,
                          check=False).returncode == 1


@pytest.mark.points(1)
def test_main_deploys_dev_then_staging_then_prod_behind_environments():
    jobs = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())["jobs"]
    assert [jobs[j].get("needs") for j in ("dev", "staging", "prod")] == [None, "dev", "staging"]
    assert [jobs[j]["environment"] for j in ("dev", "staging", "prod")] == ["dev", "staging",
                                                                            "prod"]
    on = yaml.safe_load((WORKFLOWS / "drift.yml").read_text())[True]
    assert "schedule" in on
    assert any("--preview-only" in line for _, line in pulumiml_commands("drift.yml"))


@pytest.mark.points(3)
def test_pr_workflow_commands_produce_the_comment_for_the_touched_stacks(
        infra: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    keep_clouds(infra, "aws", "gcp")
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run(["git", "init", "-q", "-b", "origin/main"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "infra"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=tmp_path, check=True)
    edit_stack_file(infra, "gcp-dev", {"serving": {"max_replicas": 4}})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "changed.txt").write_text("infra/Pulumi.gcp-dev.yaml\n")
    env = {"PULUMIML_INFRA_DIR": str(infra)}
    commands = pulumiml_commands("pr.yml")
    assert len(commands) == 1
    assert run_line(commands[0][1], {"BASE_REF": "main"}, env) == 0
    preview = json.loads((tmp_path / "preview.json").read_text())
    assert [s["stack"] for s in preview["stacks"]] == ["gcp-dev-serving"]
    assert "`gcp-dev-serving`" in (tmp_path / "comment.md").read_text()


@pytest.mark.points(3)
@pytest.mark.hidden
def test_deploy_and_drift_commands_run_in_order_on_the_emulated_engine(
        infra: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    keep_clouds(infra, "aws")
    monkeypatch.chdir(tmp_path)
    env = {"PULUMIML_INFRA_DIR": str(infra), "PULUMIML_ENGINE": "emulated",
           "PULUMIML_BACKEND_URL": f"file://{tmp_path}/backend",
           "PULUMI_CONFIG_PASSPHRASE": "ci-secret"}
    jobs = [job for job, _ in pulumiml_commands("deploy.yml")]
    assert jobs == ["dev", "staging", "prod"]
    for _job, line in pulumiml_commands("deploy.yml"):
        assert run_line(line, {}, env) == 0, line
    assert json.loads((tmp_path / "up-prod.json").read_text())["failed"] == []
    [(_, drift)] = pulumiml_commands("drift.yml")
    assert run_line(drift, {}, env) == 0
    report = json.loads((tmp_path / "drift.json").read_text())
    assert len(report["stacks"]) == 12
    assert all(s["result"]["drift"] == [] for s in report["stacks"])
