"""Kubernetes resource quantities: "250m" CPU, "512Mi" memory, both ways."""

from __future__ import annotations

import math
import re

from autoscale.errors import InputError

_SUFFIX = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1024**2,
           "Gi": 1024**3, "Ti": 1024**4, "m": 1e-3}
_PATTERN = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


def parse(value: str | float | int, what: str = "quantity") -> float:
    """"250m" -> 0.25, "1Gi" -> 1073741824.0, 2 -> 2.0."""
    if isinstance(value, int | float):
        if value < 0 or not math.isfinite(value):
            raise InputError(f"{what}: {value!r} must be a finite number >= 0")
        return float(value)
    match = _PATTERN.match(str(value).strip())
    if not match:
        raise InputError(f"{what}: {value!r} is not a Kubernetes quantity (e.g. 250m, 512Mi)")
    return float(match.group(1)) * _SUFFIX[match.group(2) or ""]


def cpu(cores: float) -> str:
    """Cores as millicores, rounded up: 0.2105 -> "211m"."""
    return f"{math.ceil(cores * 1000 - 1e-9)}m"


def memory(size: float) -> str:
    """Bytes as Mi, rounded up."""
    return f"{math.ceil(size / 1024**2 - 1e-9)}Mi"
