"""The exercise's expected errors, each with its documented exit code (README: exit codes)."""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode


class GpuoptError(Exception):
    """Base of the errors the CLI prints as one line."""

    exit_code: int = ExitCode.FAILURE


class UnknownNameError(GpuoptError):
    """An unknown workload or recipe name (exit 4)."""

    exit_code = ExitCode.NOT_FOUND


class UnsupportedError(GpuoptError):
    """A recipe that cannot run here: fp16 scaler on CPU, torch.compile without a compiler (5)."""

    exit_code = ExitCode.UNAVAILABLE


class TraceError(GpuoptError):
    """A truncated, foreign or unreadable trace or run directory (exit 3)."""

    exit_code = ExitCode.CONFIG


class UsageError(GpuoptError):
    """Options that contradict each other (exit 2)."""

    exit_code = ExitCode.USAGE
