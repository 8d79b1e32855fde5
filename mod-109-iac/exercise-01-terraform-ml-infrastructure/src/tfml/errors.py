"""Errors tfml expects; each carries the exit code the CLI documents (see README)."""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode


class TfmlError(Exception):
    """An expected failure: one line for the user, a documented exit code."""

    exit_code: int = ExitCode.FAILURE


class ConfigurationError(TfmlError):
    """Invalid input files: HCL that does not parse, a module without versions.tf, bad YAML."""

    exit_code = ExitCode.CONFIG


class NotFoundError(TfmlError):
    """A named module, version, tag or lock does not exist."""

    exit_code = ExitCode.NOT_FOUND


class UnavailableError(TfmlError):
    """terraform, checkov, git or the AWS endpoint cannot be used."""

    exit_code = ExitCode.UNAVAILABLE


class ConflictError(TfmlError):
    """The request conflicts with the current state: a dirty tree, too small a bump, a lock."""

    exit_code = ExitCode.CONFLICT
