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
    PACKAGE_NOT_FOUND = 7  # a requested package or version does not exist on the index
    NO_PROJECT = 8  # no envman.toml here or in any parent directory (and nothing else)
    CORRUPT_ENV = 9  # the environment exists but is broken
    BACKEND_FAILED = 10  # the backend tool ran and failed for another reason
    RESOLUTION_CONFLICT = 11  # the packages exist but two requirements cannot both hold
    INDEX_UNREACHABLE = 12  # the package index could not be contacted
    NO_ENV = 13  # the project has no environment yet, or the command is not in it
    MISSING_INPUT = 14  # a file named on the command line does not exist


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


class ResolutionConflictError(EnvmanError):
    code = Exit.RESOLUTION_CONFLICT


class IndexUnreachableError(EnvmanError):
    code = Exit.INDEX_UNREACHABLE


class NoEnvError(EnvmanError):
    code = Exit.NO_ENV


class MissingInputError(EnvmanError):
    code = Exit.MISSING_INPUT


class CorruptEnvError(EnvmanError):
    code = Exit.CORRUPT_ENV


class BackendFailedError(EnvmanError):
    code = Exit.BACKEND_FAILED
