"""Shared test fixtures: the library's paths, terraform with a plugin cache, git repos.

The mocked `terraform test` runs of every AWS module start in the background when the first
test needs terraform (`mock_runs`), so that they overlap the moto and registry tests; the
per-run-block tests in tests/terraform/ collect their results at the end.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from aiinfra_shared.procs.terraform import Terraform
from click.testing import CliRunner, Result

from tfml.cli import cli
from tfml.demo import init_repo
from tfml.layout import Module, discover
from tfml.policy import PolicyFinding, run_checkov
from tfml.runner import ModuleTestResult, run_module_tests

EXERCISE = Path(__file__).resolve().parents[1]
MODULES = EXERCISE / "terraform" / "modules"
MULTI_CLOUD = EXERCISE / "terraform" / "examples" / "multi-cloud"
POLICIES = EXERCISE / "policies"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "tfplan")


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI in-process, stderr apart (errors must be one line there)."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="session")
def tfml_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TFML_WORK_DIR for CLI runs; its plugin-cache/ is the one `tf` uses too."""
    work = tmp_path_factory.mktemp("tfml-work")
    (work / "plugin-cache").mkdir()
    return work


@pytest.fixture(scope="session")
def tf(terraform_factory: Callable[..., Terraform], tfml_work_dir: Path) -> Terraform:
    """terraform with the shared mirror and a plugin cache (inits symlink the provider)."""
    cache = tfml_work_dir / "plugin-cache"
    return terraform_factory(extra_config=f"plugin_cache_dir = {json.dumps(str(cache))}")


@pytest.fixture(scope="session")
def library_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the module library the tests may run terraform in."""
    target = tmp_path_factory.mktemp("library") / "modules"
    shutil.copytree(MODULES, target, ignore=IGNORE)
    return target


@pytest.fixture(scope="session")
def mock_runs(tf: Terraform, library_copy: Path) -> Iterator[dict[str, Future[ModuleTestResult]]]:
    """`terraform test` of each AWS module, two at a time, in the background."""
    modules = [m for m in discover(library_copy) if m.cloud == "aws"]
    # Terraform's plugin cache is not safe for concurrent installs: every init happens here,
    # one after the other (each only symlinks the cached provider); the background threads
    # then run `terraform test` alone, which reads .terraform and writes nothing shared.
    for module in modules:
        tf.init(module.path, "-backend=false")
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {m.key: pool.submit(run_module_tests, tf, m) for m in modules}
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def checkov_pool() -> Iterator[ThreadPoolExecutor]:
    """One checkov at a time, in the background."""
    pool = ThreadPoolExecutor(max_workers=1)
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def checkov_library(checkov_pool: ThreadPoolExecutor) -> Future[list[PolicyFinding]]:
    """checkov over the whole library (all clouds), started in the background."""
    return checkov_pool.submit(run_checkov, MODULES, plan=False, severity="MEDIUM",
                               base=MODULES)


@pytest.fixture(scope="session")
def checkov_multi_cloud(checkov_pool: ThreadPoolExecutor) -> Future[list[PolicyFinding]]:
    """checkov over terraform/examples/multi-cloud (it follows the module calls into the
    library; their findings get library paths), after the library run."""
    return checkov_pool.submit(run_checkov, MULTI_CLOUD, plan=False, severity="MEDIUM",
                               base=MODULES)


@pytest.fixture
def git_library(tmp_path: Path) -> tuple[Path, Path]:
    """(repo, modules dir): a fresh git repository with the library committed."""
    repo = tmp_path / "repo"
    repo.mkdir()
    return repo, init_repo(repo, MODULES)


def module_at(modules_dir: Path, key: str) -> Module:
    cloud, name = key.split("/")
    return Module(cloud, name, modules_dir / cloud / name)
