import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cloudml import __version__
from cloudml.cli import cli

EXERCISE = Path(__file__).resolve().parents[2]


def run(args: list[str], tmp_path: Path, tree: Path | None = None) -> Result:
    env = {"CLOUDML_WORK_DIR": str(tmp_path / "work"),
           "CLOUDML_TERRAFORM_DIR": str(tree or EXERCISE / "terraform")}
    return CliRunner().invoke(cli, args, env=env)


def one_line_error(result: Result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.points(1)
def test_version_and_help_with_examples(tmp_path: Path) -> None:
    assert __version__ in run(["--version"], tmp_path).output
    help_text = run(["--help"], tmp_path).output
    assert "Examples:" in help_text and "cloudml plan --cloud aws --env dev" in help_text
    for command in ("plan", "apply", "destroy", "output", "drift", "state", "cost"):
        assert command in help_text


@pytest.mark.points(1)
def test_entry_point_runs() -> None:
    exe = Path(sys.executable).parent / "cloudml"
    result = subprocess.run([str(exe), "state", "--help"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0
    assert "bootstrap" in result.stdout and "rollback" in result.stdout


@pytest.mark.points(2)
@pytest.mark.parametrize("args", [["plan", "--cloud", "ibm", "--env", "dev"],
                                  ["apply", "--cloud", "aws", "--env", "qa"],
                                  ["plan", "--cloud", "aws", "--env", "dev", "--var", "oops"]])
def test_bad_names_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    result = run(args, tmp_path)
    assert result.exit_code == 2
    one_line_error(result)
    assert not (tmp_path / "work").exists()


@pytest.mark.points(2)
def test_missing_tfvars_is_not_found(tmp_path: Path) -> None:
    tree = tmp_path / "tf"
    shutil.copytree(EXERCISE / "terraform" / "envs" / "aws" / "dev", tree / "envs/aws/dev")
    (tree / "envs/aws/dev/terraform.tfvars").unlink()
    result = run(["plan", "--cloud", "aws", "--env", "dev"], tmp_path, tree)
    assert result.exit_code == 4
    assert "terraform.tfvars is missing" in one_line_error(result)


@pytest.mark.points(1)
def test_apply_needs_a_saved_plan(tmp_path: Path) -> None:
    result = run(["apply", "--cloud", "aws", "--env", "staging"], tmp_path)
    assert result.exit_code == 4
    assert "no saved plan for aws/staging" in one_line_error(result)


@pytest.mark.points(2)
def test_prod_destroy_without_allow_destroy_runs_nothing(tmp_path: Path) -> None:
    result = run(["destroy", "--cloud", "aws", "--env", "prod"], tmp_path)
    assert result.exit_code == 2
    assert "--allow-destroy" in one_line_error(result)
    assert not (tmp_path / "work").exists()


def write_plan(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"planned_values": {"root_module": {"resources": [
        {"address": "aws_sagemaker_endpoint_configuration.c", "mode": "managed",
         "type": "aws_sagemaker_endpoint_configuration",
         "values": {"name": "c", "production_variants": [
             {"instance_type": "ml.m5.xlarge", "initial_instance_count": count,
              "volume_size_in_gb": 30}]}},
        {"address": "aws_sagemaker_endpoint.e", "mode": "managed",
         "type": "aws_sagemaker_endpoint", "values": {"endpoint_config_name": "c"}}]}}}))
    return path


@pytest.mark.points(2)
def test_cost_of_a_plan_file_and_the_budget_gate(tmp_path: Path) -> None:
    plan = write_plan(tmp_path, 2)
    ok = run(["cost", "--cloud", "aws", "--env", "prod", "--plan-file", str(plan), "--json"],
             tmp_path)
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.output)
    assert report["total"] == pytest.approx(2 * (0.23 * 730 + 30 * 0.14))  # 344.20
    assert report["as_of"] == "2026-11-01"
    over = run(["cost", "--cloud", "aws", "--env", "prod", "--plan-file", str(plan),
                "--budget", "300"], tmp_path)
    assert over.exit_code == 1
    assert over.output.strip().splitlines()[-1] == (
        "error: aws/prod costs 344.20 USD/month, over the budget of 300.00")


@pytest.mark.hidden
@pytest.mark.points(2)
def test_cost_bad_inputs(tmp_path: Path) -> None:
    missing = run(["cost", "--cloud", "aws", "--env", "dev"], tmp_path)
    assert missing.exit_code == 4
    assert "run `cloudml plan" in one_line_error(missing)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    bad = run(["cost", "--cloud", "aws", "--env", "dev", "--plan-file", str(garbage)],
              tmp_path)
    assert bad.exit_code == 4
    one_line_error(bad)


@pytest.mark.points(1)
def test_invalid_settings_are_config_errors(tmp_path: Path) -> None:
    config = tmp_path / "cloudml.yaml"
    config.write_text("parallelism: 0\n")
    result = run(["--config", str(config), "state", "lock", "--cloud", "aws", "--env", "dev"],
                 tmp_path)
    assert result.exit_code == 3
    assert "parallelism" in one_line_error(result)


@pytest.mark.hidden
@pytest.mark.points(1)
def test_state_of_other_clouds_is_unavailable_here(tmp_path: Path) -> None:
    result = run(["state", "versions", "--cloud", "gcp", "--env", "dev"], tmp_path)
    assert result.exit_code == 5
    assert "GCS/azurerm" in one_line_error(result)
