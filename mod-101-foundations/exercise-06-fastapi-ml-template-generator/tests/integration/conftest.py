"""Session fixtures: each template generated once, its own uv venv built once, its own test
suite run once; the tests below assert on those results and reuse the environments."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlscaffold.adapters.project_env import find_uv, subprocess_env
from mlscaffold.cli import cli
from mlscaffold.templates import BUILTIN_DIR

TEMPLATES = ("sklearn", "pytorch", "llm-gateway")


@dataclass
class Generated:
    template: str
    path: Path
    package: str
    suite: subprocess.CompletedProcess[str]

    @property
    def python(self) -> str:
        return str(self.path / ".venv/bin/python")

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A command from the project's venv, in the project."""
        return subprocess.run([str(self.path / ".venv/bin" / args[0]), *args[1:]],
                              cwd=self.path, env=subprocess_env(), capture_output=True,
                              text=True, timeout=timeout, check=False)


def _generate(template: str, parent: Path) -> Generated:
    name = f"gen-{template}"
    result = CliRunner().invoke(cli, ["new", name, "-t", template, "-o", str(parent),
                                      "--no-interactive"])
    assert result.exit_code == 0, result.output
    path = parent / name
    # --locked: `new` must have written a uv.lock that matches pyproject.toml.
    sync = subprocess.run([find_uv(), "sync", "--locked", "--quiet"], cwd=path,
                          env=subprocess_env(),
                          capture_output=True, text=True, timeout=900, check=False)
    assert sync.returncode == 0, sync.stderr[-3000:]
    suite = subprocess.run([str(path / ".venv/bin/pytest"), "-q", "-p", "no:cacheprovider"],
                           cwd=path, env=subprocess_env(), capture_output=True, text=True,
                           timeout=600, check=False)
    return Generated(template, path, name.replace("-", "_"), suite)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Generated]:
    """`generated("pytorch")`: the project, built on first use and cached for the session."""
    cache: dict[str, Generated] = {}
    parent = tmp_path_factory.mktemp("projects")

    def get(template: str) -> Generated:
        if template not in cache:
            cache[template] = _generate(template, parent)
        return cache[template]

    return get


@pytest.fixture
def templates_copy(tmp_path: Path) -> Iterator[Path]:
    """A private, editable copy of the built-in templates (for `update` tests)."""
    target = tmp_path / "templates"
    shutil.copytree(BUILTIN_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    yield target
