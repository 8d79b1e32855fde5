"""The errors autoscale expects, each with the exit code the CLI reports (shared ExitCode)."""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode


class AutoscaleError(Exception):
    """Base class: `exit_code` is what `expected_errors` turns into the process status."""

    exit_code: int = ExitCode.FAILURE


class InputError(AutoscaleError):
    """A trace, policy or cluster file is malformed (the message names file and line)."""

    exit_code = ExitCode.CONFIG


class PolicyError(AutoscaleError):
    """A policy contradicts itself (min > max, unknown metric type, conflicting scalers)."""

    exit_code = ExitCode.CONFIG


class MetricsUnavailableError(AutoscaleError):
    """A metric has no data, or a query returned more than one series where one was needed."""

    exit_code = ExitCode.NOT_FOUND


class PrometheusUnavailableError(AutoscaleError):
    """Prometheus cannot be reached or answered with an error."""

    exit_code = ExitCode.UNAVAILABLE


class KubernetesError(AutoscaleError):
    """The Kubernetes API refused or could not be reached."""

    exit_code = ExitCode.UNAVAILABLE
