"""The exercise's own errors, each with the documented exit code of `aiinfra_shared.cli`."""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode


class DisttrainError(Exception):
    exit_code: int = ExitCode.FAILURE


class ConfigurationError(DisttrainError):
    """The training config is invalid (a batch the world does not divide, unknown strategy)."""

    exit_code = ExitCode.CONFIG


class CheckpointError(DisttrainError):
    """A checkpoint cannot be used: another model, or no complete checkpoint at all."""

    exit_code = ExitCode.CONFLICT


class PortInUseError(DisttrainError):
    """The rendezvous endpoint is taken by another process."""

    exit_code = ExitCode.CONFLICT


class UnavailableError(DisttrainError):
    """An optional engine (Ray, CUDA) is not installed or not present."""

    exit_code = ExitCode.UNAVAILABLE


class StragglerExitError(DisttrainError):
    """Raised on the straggler rank when the action is `exit` (torchrun restarts the group)."""

    exit_code = 75  # EX_TEMPFAIL: the job is fine, this attempt is not
