"""Session-wide test environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _write_bytecode() -> Iterator[None]:
    """Let the subprocesses the tests start cache their bytecode.

    With PYTHONDONTWRITEBYTECODE set (as on the team's machines), every process started in a
    generated project (its test suite, scripts/train.py, uvicorn, `mlscaffold docs`) compiled
    torch/scikit-learn/FastAPI from source again: half of the suite's CPU time. The projects'
    venvs are temp dirs, so their `__pycache__` is thrown away with them (the exercise's own
    .venv, used by the `mlscaffold` subprocesses, is a local cache too).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
        yield
