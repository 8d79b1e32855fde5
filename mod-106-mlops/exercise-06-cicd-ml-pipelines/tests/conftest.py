"""Shared fixtures: the template project (generated and reproduced ONCE per session), the
GitHub comment stub, the gitlab-ci-local side tool (installed from the committed lock)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlcicd.cli import main
from tests.support.github_stub import GitHubStub

HERE = Path(__file__).parent
BIN = str(Path(sys.executable).parent)
GCL_LOCK_DIR = HERE / "support" / "gitlab_ci_local"


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for tools the tests start: this venv's bin first (dvc, mlcicd, act)."""
    env = dict(os.environ)
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def sh(*args: str, cwd: Path, check: bool = True, timeout: float = 300,
       **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env=tool_env(**env), check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def dvc(*args: str, cwd: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    return sh(sys.executable, "-m", "dvc", *args, cwd=cwd, check=check, **env)


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """The real entry point, in process."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@dataclass(frozen=True)
class Project:
    root: Path
    remote: Path
    bucket: str
    moto_env: dict[str, str]


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory, moto_server) -> Project:
    """`mlcicd init` + `dvc repro` + commit on main + `dvc push`: the base every test compares
    against. Tests that change things work in clones (`clone_project`)."""
    work = tmp_path_factory.mktemp("project")
    bucket = "mlcicd-data"
    moto_server.client("s3").create_bucket(Bucket=bucket)
    result = cli("init", str(work / "model-repo"), "--remote", str(work / "remote"),
                 "--s3-url", f"s3://{bucket}/dvc", "--s3-endpoint", moto_server.endpoint_url)
    assert result.exit_code == 0, result.output
    root = work / "model-repo"
    dvc("repro", cwd=root)
    sh("git", "add", "-A", cwd=root)
    sh("git", "commit", "-q", "-m", "pipeline run", cwd=root)
    dvc("push", "-q", cwd=root)
    return Project(root, work / "remote", bucket, dict(moto_server.env))


def clone_project(project: Project, dest: Path, branch: str = "main") -> Path:
    """A second working copy: git clone, then the data and outputs from the DVC remote."""
    sh("git", "clone", "-q", "-b", branch, str(project.root), str(dest), cwd=dest.parent)
    sh("git", "config", "user.email", "ci@example.com", cwd=dest)
    sh("git", "config", "user.name", "ci", cwd=dest)
    sh("git", "lfs", "install", "--local", cwd=dest)
    dvc("pull", "-q", cwd=dest)
    return dest


@pytest.fixture
def github_stub() -> Iterator[GitHubStub]:
    with GitHubStub() as stub:
        yield stub


@pytest.fixture(scope="session")
def gitlab_ci_local() -> Path:
    """gitlab-ci-local from npm, installed once from tests/support/gitlab_ci_local's lock and
    cached by the lock's hash (grading runs only uv sync + pytest, so the fixture installs it)."""
    if shutil.which("npm") is None:
        pytest.fail("npm is needed for gitlab-ci-local (Node 20: apt-get install nodejs npm)")
    lock = (GCL_LOCK_DIR / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = cache / "aiinfra" / f"gitlab-ci-local-{digest}"
    binary = target / "node_modules" / ".bin" / "gitlab-ci-local"
    if not binary.exists():
        staging = target.with_name(target.name + f".tmp{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(GCL_LOCK_DIR / name, staging / name)
        # the first install compiles re2's native addon with node-gyp (1-2 min on 2 cores)
        sh("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=staging,
           timeout=900)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return binary
