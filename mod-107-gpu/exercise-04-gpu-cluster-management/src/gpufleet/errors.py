"""The exercise's own errors, each with the documented exit code of `aiinfra_shared.cli`."""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode


class GpufleetError(Exception):
    exit_code: int = ExitCode.FAILURE


class FleetError(GpufleetError):
    """fleet.yaml (or a rendered manifest) is invalid: one line naming the field."""

    exit_code = ExitCode.CONFIG


class UnavailableError(GpufleetError):
    """Prometheus, the Kubernetes API or NVML cannot be reached."""

    exit_code = ExitCode.UNAVAILABLE


class TraceError(GpufleetError):
    exit_code = ExitCode.CONFIG
