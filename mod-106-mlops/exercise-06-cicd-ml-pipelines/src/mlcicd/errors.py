"""The exercise's expected errors, each with the exit code the README documents."""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode


class MlcicdError(Exception):
    """Base class: the CLI prints the message on one line and exits with `exit_code`."""

    exit_code: int = ExitCode.FAILURE


class ConfigInvalidError(MlcicdError):
    """Gate config, workflow file, params or a DVC remote is missing or invalid."""

    exit_code = ExitCode.CONFIG


class NotFoundError(MlcicdError):
    """A project, ref, environment or artifact does not exist."""

    exit_code = ExitCode.NOT_FOUND


class UnavailableError(MlcicdError):
    """A tool or server (git, dvc, the registry, the GitHub API) cannot be used."""

    exit_code = ExitCode.UNAVAILABLE


class ConflictError(MlcicdError):
    """The request conflicts with the current state (dirty tree, non-empty target)."""

    exit_code = ExitCode.CONFLICT


class CheckFailedError(MlcicdError):
    """The command ran and the answer is no: data invalid, gate failed, smoke test failed."""

    exit_code = ExitCode.FAILURE
