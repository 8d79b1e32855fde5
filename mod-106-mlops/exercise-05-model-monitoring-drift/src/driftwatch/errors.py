"""The errors driftwatch expects, each with its own documented exit code.

The CLI turns them into one line on stderr (`aiinfra_shared.cli.expected_errors`); the codes
are distinct so a scheduler can tell "the data is wrong" from "Airflow is down".
"""

from __future__ import annotations

from enum import IntEnum

from aiinfra_shared.cli import ExitCode


class Exit(IntEnum):
    """driftwatch's exit codes (README "Exit codes"); 0-6 and 70 are the shared ones."""

    FAILURE = ExitCode.FAILURE
    CONFIG = ExitCode.CONFIG
    NOT_FOUND = ExitCode.NOT_FOUND
    UNAVAILABLE = ExitCode.UNAVAILABLE
    CONFLICT = ExitCode.CONFLICT
    AUTH = 8
    INSUFFICIENT_DATA = 10
    SCHEMA = 11
    BAD_VALUES = 12
    UNKNOWN_LABELS = 13


class DriftwatchError(Exception):
    """Base class: `exit_code` is what the CLI exits with."""

    exit_code: int = Exit.FAILURE


class ConfigurationError(DriftwatchError):
    """A policy, contract or settings file is invalid."""

    exit_code = Exit.CONFIG


class NotFoundError(DriftwatchError):
    """A named thing (reference, window, DAG, file) does not exist."""

    exit_code = Exit.NOT_FOUND


class UnavailableError(DriftwatchError):
    """A service driftwatch needs (Airflow, the Evidently UI, the Pushgateway) is unreachable."""

    exit_code = Exit.UNAVAILABLE


class AuthError(DriftwatchError):
    """A service rejected our credentials (HTTP 401/403)."""

    exit_code = Exit.AUTH


class InsufficientDataError(DriftwatchError):
    """Too few rows to judge: the answer is "insufficient data", never "no drift"."""

    exit_code = Exit.INSUFFICIENT_DATA


class SchemaError(DriftwatchError):
    """Columns the data contract requires are missing or have the wrong type."""

    exit_code = Exit.SCHEMA


class BadValuesError(DriftwatchError):
    """Values the contract forbids: NaN or out-of-range probabilities, labels not in {0, 1}."""

    exit_code = Exit.BAD_VALUES


class UnknownLabelsError(DriftwatchError):
    """Labels arrived for prediction ids the prediction log does not have."""

    exit_code = Exit.UNKNOWN_LABELS
