from __future__ import annotations

from concurrent.futures import Future

import pytest

from tfml.policy import PolicyFinding
from tfml.runner import ModuleTestResult


@pytest.fixture(scope="session", autouse=True)
def _start_background_work(mock_runs: dict[str, Future[ModuleTestResult]],
                           checkov_library: Future[list[PolicyFinding]],
                           checkov_multi_cloud: Future[list[PolicyFinding]]) -> None:
    """Also start them when only this folder runs (the results are collected here, after the
    integration tests, so that the waiting overlaps the moto work)."""
