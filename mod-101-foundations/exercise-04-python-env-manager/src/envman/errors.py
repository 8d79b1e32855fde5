"""Errors envman expects, each with its own exit code (documented in the README).

They subclass the shared `CLIError`, so the CLI prints them as one line without a traceback.
"""

from __future__ import annotations

from enum import IntEnum

from aiinfra_shared.cli import CLIError, ExitCode


class Exit(IntEnum):
    OK = ExitCode.OK
    UNHEALTHY = ExitCode.FAILURE  # doctor found problems; a wrapped command failed
    USAGE = ExitCode.USAGE  # bad option, unknown backend on the command line
    CONFIG = ExitCode.CONFIG  # malformed or invalid envman.toml / user config
    INTERPRETER_NOT_FOUND = ExitCode.NOT_FOUND
    TOOL_UNAVAILABLE = ExitCode.UNAVAILABLE  # poetry, conda, docker... not installed
    CONFLICT = ExitCode.CONFLICT  # e.g. `init` over an existing envman.toml
    PACKAGE_NOT_FOUND = 7  # a requested package or version cannot be resolved
    NO_PROJECT = 8  # no envman.toml here or in any parent directory
    CORRUPT_ENV = 9  # the environment exists but is broken
    BACKEND_FAILED = 10  # the backend tool ran and failed for another reason


class EnvmanError(CLIError):
    """Base class: an expected failure with a specific exit code."""

    code: Exit = Exit.UNHEALTHY

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message, int(self.code if exit_code is None else exit_code))


class SpecError(EnvmanError):
    code = Exit.CONFIG


class UsageError(EnvmanError):
    code = Exit.USAGE


class InterpreterNotFoundError(EnvmanError):
    code = Exit.INTERPRETER_NOT_FOUND


class ToolUnavailableError(EnvmanError):
    code = Exit.TOOL_UNAVAILABLE


class ConflictError(EnvmanError):
    code = Exit.CONFLICT


class PackageNotFoundError(EnvmanError):
    code = Exit.PACKAGE_NOT_FOUND


class NoProjectError(EnvmanError):
    code = Exit.NO_PROJECT


class CorruptEnvError(EnvmanError):
    code = Exit.CORRUPT_ENV


class BackendFailedError(EnvmanError):
    code = Exit.BACKEND_FAILED
