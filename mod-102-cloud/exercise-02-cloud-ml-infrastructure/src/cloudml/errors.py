"""Errors the core raises; the CLI maps each class to one documented exit code.

The core never imports click: these carry the message (one line, says what to do next) and
the CLI turns them into `CLIError(message, exit_code)`.
"""

from __future__ import annotations


class CloudMLError(Exception):
    """Base class: an expected failure with a one-line message."""

    exit_code = 1


class UsageError(CloudMLError):
    """Bad arguments (unknown cloud or env, a prod delete without confirmation)."""

    exit_code = 2


class InputError(CloudMLError):
    """Invalid configuration values: tfvars that fail variable validation, a bad price table."""

    exit_code = 3


class MissingError(CloudMLError):
    """A named thing does not exist: an env root, its tfvars, a saved plan, a state version."""

    exit_code = 4


class UnavailableError(CloudMLError):
    """A tool or server cannot be reached: terraform, a provider, the state bucket."""

    exit_code = 5


class ConflictError(CloudMLError):
    """The request conflicts with current state: a held lock, a stale plan."""

    exit_code = 6
