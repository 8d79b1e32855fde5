from __future__ import annotations

from concurrent.futures import Future

import pytest

from tfml.policy import PolicyFinding
from tfml.runner import ModuleTestResult


@pytest.fixture(scope="session", autouse=True)
def _start_background_work(mock_runs: dict[str, Future[ModuleTestResult]],
                           checkov_library: Future[list[PolicyFinding]],
                           checkov_multi_cloud: Future[list[PolicyFinding]]) -> None:
    """Start the background `terraform test` runs and checkov with the first integration
    test, so that they overlap the moto work."""
