"""The framework-neutral handle the worker times: a step, a sync, and a few probes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def _none() -> float | None:
    return None


def _noop() -> None:
    return None


def _nothing_applied() -> dict[str, Any]:
    return {}


@dataclass
class Workload:
    """A built model bound to its batch; `step()` runs one train step or one inference."""

    param_count: int
    step: Callable[[], Any]
    sync: Callable[[Any], None]
    loss_of: Callable[[Any], float] | None = None  # train mode: loss value of a step output
    channels_last_applied: bool = False
    reset_device_memory: Callable[[], None] = field(default=_noop)
    device_memory_peak_mb: Callable[[], float | None] = field(default=_none)
    # What the framework actually did, read back after the run (not the options asked for):
    # compute_dtype / param_dtype of the model, whether the compiled function ran
    # (`compiled`), how often Python traced the step (`traces`). Tests assert on it, so an
    # option that is silently ignored shows.
    applied: Callable[[], dict[str, Any]] = field(default=_nothing_applied)


class UnsupportedJobError(Exception):
    """The framework cannot run this combination here (reported as skipped, with the reason)."""
