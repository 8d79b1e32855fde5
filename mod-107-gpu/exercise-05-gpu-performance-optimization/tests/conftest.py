"""Profiled runs shared by the tests: each workload is profiled once per session."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

os.environ.setdefault("KINETO_LOG_LEVEL", "5")
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def profiled(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """`profiled("cnn", "amp-bf16")` -> a run directory written by `gpuopt profile`."""
    from tests.helpers import invoke

    cache: dict[tuple[str, ...], Path] = {}

    def get(workload: str, *recipes: str, active: int = 2) -> Path:
        key = (workload, *recipes, str(active))
        if key not in cache:
            out = tmp_path_factory.mktemp("run") / "-".join(key).replace(":", "_")
            args = ["profile", "--workload", workload, "--active", str(active), "--out", str(out)]
            for recipe in recipes:
                args += ["--recipe", recipe]
            result = invoke(*args)
            assert result.exit_code == 0, result.output
            cache[key] = out
        return cache[key]

    return get
