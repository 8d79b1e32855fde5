"""Shared helpers: a copy of the shipped infra per test, the CLI in process, one policy
pack subprocess per run, and mocked runs of layer stacks with their upstream layers."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from pulumiml.cli import cli
from pulumiml.driver import mock_preview
from pulumiml.mockrun import MockResult, Registration
from pulumiml.policy.client import AnalyzerClient
from pulumiml.project import Project
from pulumiml.spec import StackName

EXERCISE = Path(__file__).resolve().parents[1]
INFRA = EXERCISE / "infra"

for name in list(os.environ):
    if name.startswith("PULUMIML_") or name.startswith("PULUMI_CONFIG_PASSPHRASE"):
        del os.environ[name]


@pytest.fixture
def infra(tmp_path: Path) -> Path:
    """A private copy of the shipped stack files and policy config."""
    target = tmp_path / "infra"
    shutil.copytree(INFRA, target)
    return target


def keep_clouds(infra: Path, *clouds: str) -> Path:
    """Drop the other clouds' stack files (smaller, faster projects)."""
    for path in infra.glob("Pulumi.*.yaml"):
        if path.name.split(".")[1].split("-")[0] not in clouds:
            path.unlink()
    return infra


def edit_stack_file(infra: Path, cloud_env: str, change: dict[str, Any] | None = None,
                    raw: dict[str, Any] | None = None) -> Path:
    """Deep-merge `change` into the platform spec of `Pulumi.<cloud_env>.yaml`."""
    path = infra / f"Pulumi.{cloud_env}.yaml"
    data = yaml.safe_load(path.read_text())
    if raw is not None:
        data["config"].update(raw)

    def merge(into: dict[str, Any], new: dict[str, Any]) -> None:
        for key, value in new.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value

    merge(data["config"]["pulumiml:platform"], change or {})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI in process (the same code path as the console script, without the startup)."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def json_out(result: Result) -> Any:
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def analyzer() -> Iterator[AnalyzerClient]:
    """The real policy pack, started as the engine starts it, once per run."""
    with AnalyzerClient() as client:
        yield client


def mock_stacks(infra: Path, *names: str) -> dict[str, MockResult]:
    """Mocked runs of `names` (upstream layers run too, for their outputs)."""
    project = Project(infra)
    preview = mock_preview(project, [StackName.parse(n) for n in names], policy=False)
    return {str(stack): result for stack, result in preview.results.items()}


def custom(result: MockResult, type_: str) -> list[Registration]:
    return [r for r in result.registrations if r.type == type_]


def by_type(result: MockResult) -> dict[str, list[Registration]]:
    found: dict[str, list[Registration]] = {}
    for r in result.registrations:
        found.setdefault(r.type, []).append(r)
    return found
