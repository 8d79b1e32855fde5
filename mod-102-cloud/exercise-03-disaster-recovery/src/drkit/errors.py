"""Errors drkit expects, each mapped to one of the curriculum's documented exit codes.

The core raises these (never click exceptions) so that it stays usable without the CLI;
`cli.py` turns them into one line on stderr and the exit code below.
"""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode


class DrkitError(Exception):
    """Base class: `str()` is one line, ready to print; `exit_code` is what the CLI returns."""

    exit_code: int = ExitCode.FAILURE


class ConfigurationError(DrkitError):
    """A setting, key file or scenario file is invalid."""

    exit_code = ExitCode.CONFIG


class NotFoundError(DrkitError):
    """A backup, WAL segment, target or object does not exist."""

    exit_code = ExitCode.NOT_FOUND


class UnavailableError(DrkitError):
    """A server, bucket or tool drkit needs cannot be reached."""

    exit_code = ExitCode.UNAVAILABLE


class ConflictError(DrkitError):
    """The request conflicts with current state (restore dir not empty, port taken...)."""

    exit_code = ExitCode.CONFLICT


class IntegrityError(DrkitError):
    """Data failed a check: checksum mismatch, broken WAL chain, verification failure."""

    exit_code = ExitCode.FAILURE


class KeyMismatchError(DrkitError):
    """A missing or wrong decryption key."""

    exit_code = ExitCode.CONFIG
