"""The CI/CD definitions: linted (actionlint, bundled JSON schemas, kustomize +
kubernetes-validate, hadolint) and run for real (act in host mode, gitlab-ci-local in shell
mode). Git LFS for the binary samples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlcicd.project import template_root
from mlcicd.report import MARKER
from tests.conftest import BIN, Project, cli, sh

pytestmark = [pytest.mark.integration]
EXERCISE = Path(__file__).resolve().parents[2]


@pytest.fixture
def template_copy(tmp_path: Path) -> Path:
    root = tmp_path / "tpl"
    shutil.copytree(template_root(), root)
    return root


@pytest.mark.points(4)
def test_ci_definitions_pass_every_checker(template_copy: Path):
    result = cli("-C", str(template_copy), "check")
    assert result.exit_code == 0, result.output
    for name in ("actionlint", "github-workflows schema", "github-actions schema",
                 "gitlab-ci schema", "kustomize staging", "kustomize prod"):
        assert name in result.output


@pytest.mark.points(3)
@pytest.mark.parametrize("break_it, checker", [
    (lambda r: (r / ".github/workflows/pr.yml").write_text(
        (r / ".github/workflows/pr.yml").read_text().replace("needs: validate",
                                                              "needs: valdate")), "actionlint"),
    (lambda r: (r / ".gitlab-ci.yml").write_text(
        (r / ".gitlab-ci.yml").read_text().replace("stage: validate", "stage: [1, 2]")),
     "gitlab-ci schema"),
    (lambda r: (r / "deploy/base/deployment.yaml").write_text(
        (r / "deploy/base/deployment.yaml").read_text().replace("- containerPort: 8080",
                                                                 "- containerPort: web")),
     "kustomize"),
])
def test_an_invalid_definition_fails_with_exit_3(template_copy: Path, break_it, checker):
    break_it(template_copy)
    result = cli("-C", str(template_copy), "check")
    assert result.exit_code == 3
    assert f"invalid CI/CD config: {checker}" in result.output


@pytest.mark.points(2)
def test_dockerfiles_are_hadolint_clean():
    for dockerfile in (template_root() / "Dockerfile.serve", EXERCISE / "Dockerfile"):
        result = sh(f"{BIN}/hadolint", str(dockerfile), cwd=EXERCISE, check=False)
        assert result.returncode == 0, result.stdout


@pytest.mark.points(2)
def test_overlays_render_per_environment(template_copy: Path):
    for env, replicas in (("staging", 1), ("prod", 3)):
        out = sh(f"{BIN}/kubectl", "kustomize", str(template_copy / "deploy/overlays" / env),
                 cwd=template_copy).stdout
        docs = {d["kind"]: d for d in yaml.safe_load_all(out)}
        assert docs["Deployment"]["metadata"]["namespace"] == f"ml-{env}"
        assert docs["Deployment"]["spec"]["replicas"] == replicas


@pytest.fixture(scope="module")
def better_pr(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pull request branch with better params, committed without reproducing: CI does that."""
    root = tmp_path_factory.mktemp("better") / "repo"
    sh("git", "clone", "-q", str(project.root), str(root), cwd=root.parent)
    sh("git", "config", "user.email", "ci@example.com", cwd=root)
    sh("git", "config", "user.name", "ci", cwd=root)
    # act derives github.repository from the origin URL
    sh("git", "remote", "set-url", "origin", "https://github.com/acme/model.git", cwd=root)
    sh("git", "checkout", "-q", "-b", "better", cwd=root)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["train"]["C"] = 0.3
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "commit", "-q", "-am", "train: C=0.3", cwd=root)
    return root


@pytest.mark.slow
@pytest.mark.points(6)
def test_pr_workflow_under_act_passes_the_gate_and_posts_the_report(better_pr: Path,
                                                                    github_stub, tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 5, "base": {"ref": "main"},
                                                  "head": {"ref": "better"}},
                                 "repository": {"full_name": "acme/model"}}))
    result = sh(f"{BIN}/act", "pull_request", "-W", ".github/workflows/pr.yml",
                "-P", "ubuntu-latest=-self-hosted", "-e", str(event),
                "--env", f"MLCICD_GITHUB_API_URL={github_stub.url}",
                "--env", f"PATH={BIN}:/usr/local/bin:/usr/bin:/bin", "-s", "GITHUB_TOKEN=test",
                "--action-offline-mode", cwd=better_pr, check=False, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "Job succeeded" in log and "Main Gate" in log
    assert "11 passed" in log  # the model tests ran in CI
    assert "data version " in log  # validate job's output reached the pipeline job (needs)
    bodies = [c["body"] for c in github_stub.comments.values()]
    assert len(bodies) == 1 and bodies[0].startswith(MARKER)
    assert "| params.yaml | train.C | 1.0000 | 0.3000 |" in bodies[0]


@pytest.mark.slow
@pytest.mark.points(4)
@pytest.mark.hidden
def test_gitlab_pipeline_under_gitlab_ci_local(project: Project, gitlab_ci_local: Path,
                                               tmp_path: Path):
    root = tmp_path / "repo"
    sh("git", "clone", "-q", str(project.root), str(root), cwd=tmp_path)
    # the merge-request part: package/deploy need a registry (test_deploy.py runs those commands)
    result = sh(str(gitlab_ci_local), "--shell-isolation", "--no-color", "validate", "pipeline",
                cwd=root, check=False, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "PASS  validate" in log and "PASS  pipeline" in log
    assert "11 passed" in log and "not worse" in log


@pytest.mark.points(2)
def test_lfs_samples_travel_through_a_file_remote(project: Project, tmp_path: Path):
    bare = tmp_path / "origin.git"
    sh("git", "init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    sh("git", "push", "-q", f"file://{bare}", "main", cwd=project.root)
    assert "samples/requests.npy" in sh("git", "lfs", "ls-files", cwd=project.root).stdout
    clone = tmp_path / "clone"
    sh("git", "clone", "-q", f"file://{bare}", str(clone), cwd=tmp_path)
    samples = np.load(clone / "samples/requests.npy")  # the content, not an LFS pointer
    assert samples.shape == (16, 30)
    pointer = sh("git", "cat-file", "-p", "HEAD:samples/requests.npy", cwd=clone).stdout
    assert pointer.startswith("version https://git-lfs.github.com/spec/v1")
