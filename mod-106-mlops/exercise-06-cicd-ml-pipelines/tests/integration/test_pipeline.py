"""The template project for real: git, DVC 3 (local and S3 remotes), validation stage, model
tests, report against main posted to the comment stub, the gate on a worse model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import joblib
import pandas as pd
import pytest
import yaml
from sklearn.dummy import DummyClassifier

from mlcicd.report import MARKER
from tests.conftest import Project, cli, clone_project, dvc, sh

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def worse(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pull request that weakens regularisation too far: C=0.0003, reproduced."""
    root = clone_project(project, tmp_path_factory.mktemp("worse") / "repo")
    sh("git", "checkout", "-q", "-b", "weaker", cwd=root)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["train"]["C"] = 0.0003
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc("repro", cwd=root)
    return root


@pytest.mark.points(4)
def test_init_creates_a_git_and_dvc_project(project: Project):
    root = project.root
    for name in ("dvc.yaml", "params.yaml", "gate.yaml", ".github/workflows/pr.yml",
                 ".gitlab-ci.yml", "data/raw/breast_cancer.csv.dvc", "data/reference/profile.json",
                 "tests/test_model.py"):
        assert (root / name).exists(), name
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    assert list(stages) == ["prepare", "validate", "train", "evaluate"]
    tracked = sh("git", "ls-files", cwd=root).stdout.split()
    assert "data/raw/breast_cancer.csv" not in tracked  # DVC versions the data, not git
    remotes = dvc("remote", "list", cwd=root).stdout
    assert str(project.remote) in remotes and f"s3://{project.bucket}/dvc" in remotes
    assert sh("git", "status", "--porcelain", cwd=root).stdout == ""


@pytest.mark.points(3)
def test_pipeline_ran_and_a_second_repro_is_a_no_op(project: Project):
    metrics = json.loads((project.root / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.9 and metrics["n_test"] == 171
    assert json.loads((project.root / "reports/validation.json").read_text())["valid"] == 1
    lock = yaml.safe_load((project.root / "dvc.lock").read_text())
    assert set(lock["stages"]) == {"prepare", "validate", "train", "evaluate"}
    again = dvc("repro", cwd=project.root).stdout
    assert "Data and pipelines are up to date" in again
    assert any(project.remote.rglob("*")), "dvc push stored nothing in the local remote"


@pytest.mark.points(1)
def test_init_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = cli("init", str(tmp_path), "--remote", str(tmp_path.parent / "r"))
    assert result.exit_code == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.points(3)
def test_template_model_tests_pass(project: Project):
    result = sh(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
                cwd=project.root, check=False)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "11 passed" in result.stdout


@pytest.mark.points(3)
@pytest.mark.hidden
def test_template_model_tests_catch_a_constant_model(project: Project, tmp_path):
    root = project.root
    bundle = joblib.load(root / "models/model.joblib")
    train = pd.read_csv(root / "data/prepared/train.csv")
    dummy = DummyClassifier(strategy="most_frequent").fit(train[bundle["features"]],
                                                          train["target"])
    joblib.dump({"model": dummy, "features": bundle["features"]}, tmp_path / "constant.joblib")
    result = sh(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
                cwd=root, check=False, MODEL_PATH=str(tmp_path / "constant.joblib"))
    assert result.returncode == 1
    for name in ("test_performance_floor", "test_minimum_functionality_prototypes"):
        assert f"FAILED tests/test_model.py::{name}" in result.stdout


@pytest.mark.points(4)
def test_corrupted_data_stops_the_pipeline_and_nothing_is_pushed(project: Project, tmp_path,
                                                                 oci_registry):
    root = clone_project(project, tmp_path / "repo")
    raw = root / "data/raw/breast_cancer.csv"
    frame = pd.read_csv(raw)
    frame.loc[frame.index[:5], "mean radius"] = -3.0
    frame.loc[frame.index[5:8], "worst area"] = None
    raw.unlink()
    frame.to_csv(raw, index=False)
    result = dvc("repro", cwd=root, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "data validation failed" in output
    assert "mean radius" in output and "worst area" in output
    assert "Running stage 'train'" not in output
    env = {"MLCICD_REGISTRY": oci_registry.host}
    before = oci_registry.catalog()
    pushed = cli("-C", str(root), "package", "--version", "9.9.9", "--allow-dirty", env=env)
    assert pushed.exit_code == 1
    assert "nothing pushed" in pushed.output
    assert oci_registry.catalog() == before


@pytest.mark.points(2)
def test_s3_remote_on_moto(project: Project, moto_server):
    dvc("push", "-q", "-r", "s3", cwd=project.root, **project.moto_env)
    listed = moto_server.client("s3").list_objects_v2(Bucket=project.bucket, Prefix="dvc/")
    assert listed.get("KeyCount", 0) >= 4  # raw data, prepared sets, model


@pytest.mark.points(2)
def test_missing_remote_and_unknown_base_ref(project: Project):
    root = project.root
    result = cli("-C", str(root), "data", "pull", "--remote", "nowhere")
    assert result.exit_code == 3
    assert "DVC remote 'nowhere' is not configured" in result.output
    config = root / ".dvc" / "config"
    saved = config.read_bytes()
    dvc("remote", "default", "--unset", cwd=root)
    try:
        result = cli("-C", str(root), "data", "push")
    finally:
        config.write_bytes(saved)  # byte for byte: later tests package from a clean tree
    assert result.exit_code == 3 and "no DVC remote configured" in result.output
    for command in ("gate", "report"):
        result = cli("-C", str(root), command, "--base", "no-such-branch")
        assert result.exit_code == 4, result.output
        assert "unknown base ref 'no-such-branch'" in result.output


@pytest.mark.points(4)
def test_report_posts_one_comment_that_later_runs_update(worse: Path, github_stub):
    earlier = github_stub.add(12, f"{MARKER}\nan earlier run")
    env = {"MLCICD_GITHUB_API_URL": github_stub.url, "GITHUB_TOKEN": "test"}
    result = cli("-C", str(worse), "report", "--base", "main", "--out", "report.md", "--post",
                 "--repo", "acme/model", "--pr", "12", env=env)
    assert result.exit_code == 0, result.output
    assert f"report comment {earlier} updated" in result.output
    assert len(github_stub.comments) == 1
    body = github_stub.comments[earlier]["body"]
    assert body == (worse / "report.md").read_text()
    assert "| params.yaml | train.C | 1.0000 | 0.0003 |" in body
    assert "| metrics.json | accuracy | 0.9766 |" in body
    assert "`models/model.joblib`" in body


@pytest.mark.points(4)
def test_gate_fails_the_worse_model(worse: Path):
    result = cli("-C", str(worse), "gate", "--base", "main", "--json")
    assert result.exit_code == 1
    payload = json.loads(result.output[: result.output.rindex("}") + 1])
    decisions = {d["metric"]: d for d in payload["decisions"]}
    assert not decisions["accuracy"]["passed"] and "floor" in decisions["accuracy"]["reason"]
    assert "gate failed on accuracy" in result.output


@pytest.mark.hidden
@pytest.mark.points(2)
def test_invalid_gate_config_exit_3(worse: Path, tmp_path):
    rules = tmp_path / "gate.yaml"
    rules.write_text("metrics:\n  accuracy:\n    direction: sideways\n")
    result = cli("-C", str(worse), "gate", "--base", "main", "--rules", str(rules))
    assert result.exit_code == 3
    assert "metrics.accuracy.direction" in result.output
    assert len(result.output.strip().splitlines()) == 1
