"""One adapter module per framework; each is imported only inside its own worker process."""

from __future__ import annotations

import importlib
from typing import Protocol

import numpy as np

from mlbench.adapters.base import Workload
from mlbench.models import ModelSpec
from mlbench.schema import Job

MODULES = {
    "torch": "mlbench.adapters.torch_adapter",
    "tensorflow": "mlbench.adapters.tf_adapter",
    "jax": "mlbench.adapters.jax_adapter",
}


class Adapter(Protocol):
    """What the worker needs from a framework adapter module."""

    def setup(self, threads: int, device: str) -> dict[str, str]: ...

    def build(self, job: Job, spec: ModelSpec, x: np.ndarray, y: np.ndarray) -> Workload: ...


def load_adapter(framework: str) -> Adapter:
    """Import the adapter (and so the framework); ImportError means "not installed"."""
    module: Adapter = importlib.import_module(MODULES[framework])
    return module
