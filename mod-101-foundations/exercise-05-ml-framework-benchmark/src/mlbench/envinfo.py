"""Environment fingerprint and framework availability (without importing the frameworks).

The parent process never imports torch, TensorFlow or JAX: checking the installed distribution
metadata is instant, and importing three frameworks into one process is exactly the
interference the per-framework subprocesses avoid.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import os
import platform
from pathlib import Path

import numpy as np
import psutil

from mlbench import __version__
from mlbench.schema import FRAMEWORKS, Fingerprint

# framework -> (import name, distributions that provide it, pip extra)
FRAMEWORK_PACKAGES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "torch": ("torch", ("torch",), "torch"),
    "tensorflow": ("tensorflow", ("tensorflow-cpu", "tensorflow", "tf-nightly"), "tensorflow"),
    "jax": ("jax", ("jax",), "jax"),
}


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (falls back to platform.processor())."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def framework_version(framework: str) -> str | None:
    """Installed version of `framework`'s distribution, or None when it is not installed."""
    module, dists, _ = FRAMEWORK_PACKAGES[framework]
    for dist in dists:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            continue
    return None if importlib.util.find_spec(module) is None else "unknown"


def availability() -> dict[str, dict[str, str | bool | None]]:
    """For each framework: installed?, version, and how to install it when missing."""
    out: dict[str, dict[str, str | bool | None]] = {}
    for fw in FRAMEWORKS:
        version = framework_version(fw)
        extra = FRAMEWORK_PACKAGES[fw][2]
        out[fw] = {
            "installed": version is not None,
            "version": version,
            "reason": None if version else
            f"{fw} is not installed (install the extra: pip install 'mlbench[{extra}]')",
        }
    return out


def host_fingerprint(threads: int, framework: str = "none", device: str = "cpu",
                     device_name: str | None = None,
                     extra: dict[str, str] | None = None) -> Fingerprint:
    """A fingerprint of this host; the worker fills in the framework and device details."""
    return Fingerprint(
        mlbench_version=__version__,
        python=platform.python_version(),
        platform=platform.platform(),
        cpu_model=cpu_model(),
        physical_cores=psutil.cpu_count(logical=False),
        logical_cores=os.cpu_count() or 1,
        cpu_affinity=sorted(os.sched_getaffinity(0)),
        threads=threads,
        framework=framework,
        framework_version=framework_version(framework) if framework in FRAMEWORKS else None,
        numpy_version=np.__version__,
        device=device,
        device_name=device_name or cpu_model(),
        extra=dict(extra or {}),
    )
