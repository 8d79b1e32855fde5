"""Errors the core raises. Each maps to one documented exit code of the CLI.

They derive from the shared `CLIError`, so the CLI prints them as one line and exits with the
code; library callers can catch them by type.
"""

from __future__ import annotations

from aiinfra_shared.cli import CLIError, ExitCode


class RegmanError(CLIError):
    """Base class: a failure the user can act on (message says what and what to do)."""

    def __init__(self, message: str, exit_code: int = ExitCode.FAILURE) -> None:
        super().__init__(message, exit_code)


class BadReferenceError(RegmanError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.USAGE)


class RegistryUnavailableError(RegmanError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.UNAVAILABLE)


class AuthError(RegmanError):
    """401/403: wrong or missing credentials, or a token without the needed scope."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.FAILURE)


class NotFoundInRegistryError(RegmanError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.NOT_FOUND)


class PolicyError(RegmanError):
    """A policy/rules file is malformed (message names file and line)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.CONFIG)


class SigningKeyError(RegmanError):
    """A signing key cannot be read or decrypted."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.CONFIG)


class VerificationError(RegmanError):
    """No valid signature satisfies the key or policy."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.FAILURE)


class IntegrityError(RegmanError):
    """Content read back does not match its digest."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.FAILURE)


class RegistryRequestError(RegmanError):
    """Any other 4xx: the registry rejected the request (bad manifest, unsupported...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.FAILURE)
