"""The exercise's expected errors, each with the shared exit code it maps to.

The CLI wraps commands in `expected_errors(MeshobsError)`, so any of these becomes one line on
stderr and its `exit_code`, never a traceback.
"""

from __future__ import annotations

from aiinfra_shared.cli import ExitCode


class MeshobsError(Exception):
    """Base class: an error the user can act on."""

    exit_code: int = ExitCode.FAILURE


class SpecError(MeshobsError):
    """mesh.yaml / canary.yaml is invalid (unknown service, weights not summing to 100...)."""

    exit_code = ExitCode.CONFIG


class UnavailableError(MeshobsError):
    """Prometheus, HAProxy's admin socket or a service cannot be reached."""

    exit_code = ExitCode.UNAVAILABLE


class CertificateError(MeshobsError):
    """A certificate is expired, not yet valid, or not signed by the mesh CA."""

    exit_code = ExitCode.FAILURE


class NotFoundError(MeshobsError):
    """A named trace, file or CA does not exist."""

    exit_code = ExitCode.NOT_FOUND
