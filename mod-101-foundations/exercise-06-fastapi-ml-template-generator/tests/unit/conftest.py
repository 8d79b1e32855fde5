"""Unit tests generate many projects: `uv lock` (a subprocess, PyPI or uv's cache) is left to
the integration tests and to the one unit test that switches it back on."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSCAFFOLD_LOCK", "false")
