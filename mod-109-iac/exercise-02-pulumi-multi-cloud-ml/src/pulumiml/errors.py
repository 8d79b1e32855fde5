"""pulumiml's own errors: each carries the exit code the CLI documents (README, Usage)."""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode

#: A mandatory policy violation has its own code so CI can tell "policy said no" from a crash.
POLICY_VIOLATION = 7


class PulumimlError(Exception):
    """Base class: `str()` is one printable line, `exit_code` is what the CLI exits with."""

    exit_code: int = ExitCode.FAILURE


class SpecError(PulumimlError):
    """A stack file or the platform spec in it is invalid (one line per bad field)."""

    exit_code = ExitCode.CONFIG


class UnknownStackError(PulumimlError):
    """A stack, cloud, env or layer name that does not exist in the project."""

    exit_code = ExitCode.USAGE


class NotDeployedError(PulumimlError):
    """The stack has no state in the backend (outputs of a stack never deployed)."""

    exit_code = ExitCode.NOT_FOUND


class PassphraseError(PulumimlError):
    """The passphrase secrets provider has no passphrase, or a wrong one."""

    exit_code = ExitCode.CONFIG


class CycleError(PulumimlError):
    """Stack references form a cycle: no order exists."""

    exit_code = ExitCode.CONFLICT


class EngineUnavailableError(PulumimlError):
    """The Pulumi CLI (or the policy analyzer) cannot be started."""

    exit_code = ExitCode.UNAVAILABLE


class PolicyViolationError(PulumimlError):
    """A mandatory policy failed: nothing was deployed."""

    exit_code = POLICY_VIOLATION


class OperationError(PulumimlError):
    """An update failed part-way (the JSON result says which stacks)."""

    exit_code = ExitCode.FAILURE
