"""The pipeline's expected errors, each with the exit code the CLI documents.

The CLI turns them into one line through `aiinfra_shared.cli.expected_errors`; everything else
is a bug (exit 70).
"""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode


class StreamError(Exception):
    """Base class: `exit_code` is what the CLI exits with."""

    exit_code: int = ExitCode.FAILURE


class BrokerUnavailableError(StreamError):
    """The Kafka broker (or another server) could not be reached in time."""

    exit_code = ExitCode.UNAVAILABLE


class TopicNotFoundError(StreamError):
    exit_code = ExitCode.NOT_FOUND


class IncompatibleSchemaError(StreamError):
    """The registry refused a schema (HTTP 409)."""

    exit_code = ExitCode.CONFLICT


class InvalidSchemaError(StreamError):
    exit_code = ExitCode.CONFIG


class FencedError(StreamError):
    """A newer instance with the same transactional.id took over: this one must stop."""

    exit_code = ExitCode.CONFLICT


class NotEnoughDataError(StreamError):
    exit_code = ExitCode.FAILURE


class ModelNotFoundError(StreamError):
    exit_code = ExitCode.NOT_FOUND
