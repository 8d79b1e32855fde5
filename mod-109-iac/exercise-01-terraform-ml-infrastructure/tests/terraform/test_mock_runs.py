"""`terraform test` of every AWS module with `mock_provider "aws"`: one result per run block.

The run blocks are read from the `.tftest.hcl` files at collection (so a new run block is a new
test); the runs themselves happen in the background (`mock_runs` in tests/conftest.py) and are
digested from `terraform test -json`. Plans, `expect_failures` for the validation rules and
mocked applies, no cloud and no emulator.
"""

from __future__ import annotations

from concurrent.futures import Future

import hcl2
import pytest

from tests.conftest import MODULES
from tfml.runner import ModuleTestResult

POINTS = {"network": 1, "object-store": 1, "container-registry": 1, "ml-serving": 2,
          "gpu-compute": 1, "state-backend": 2}


def _run_blocks() -> list[tuple[str, str, str]]:
    found = []
    for name in POINTS:
        for path in sorted((MODULES / "aws" / name / "tests").glob("*.tftest.hcl")):
            data = hcl2.loads(path.read_text())
            for block in data.get("run", []):
                for run_name in block:
                    found.append((f"aws/{name}", f"tests/{path.name}", run_name))
    return found


RUNS = _run_blocks()


def _result(mock_runs: dict[str, Future[ModuleTestResult]], key: str) -> ModuleTestResult:
    result = mock_runs[key].result(timeout=600)
    assert result.error is None, result.error
    assert result.report is not None
    return result


@pytest.mark.points(1)
@pytest.mark.parametrize(("module", "file", "run"), RUNS,
                         ids=[f"{m}::{r}" for m, _, r in RUNS])
def test_run_block_passes(mock_runs: dict[str, Future[ModuleTestResult]], module: str,
                          file: str, run: str) -> None:
    result = _result(mock_runs, module)
    status = result.runs.get(f"{file}::{run}")
    diagnostics = result.report.diagnostics if result.report else []
    assert status == "pass", f"{module} {run}: {status}; {diagnostics}"


@pytest.mark.points(2)
@pytest.mark.parametrize("module", [f"aws/{name}" for name in POINTS])
def test_module_suite_reports_every_run_block(
        mock_runs: dict[str, Future[ModuleTestResult]], module: str) -> None:
    """The JSON stream holds one completed result per run block and a passing summary."""
    result = _result(mock_runs, module)
    expected = {f"{f}::{r}" for m, f, r in RUNS if m == module}
    assert set(result.runs) == expected
    assert result.report is not None and result.report.summary["status"] == "pass"
    assert result.report.summary["passed"] == len(expected)


@pytest.mark.points(1)
def test_every_aws_module_has_run_blocks() -> None:
    assert {m for m, _, _ in RUNS} == {f"aws/{name}" for name in POINTS}
    assert all(sum(1 for m, _, _ in RUNS if m == key) >= 3 for key in {m for m, _, _ in RUNS})
