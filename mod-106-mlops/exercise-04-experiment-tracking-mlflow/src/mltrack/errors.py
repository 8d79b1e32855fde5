"""Domain errors. The CLI maps each to one line and a documented exit code."""

from __future__ import annotations


class MltrackError(Exception):
    """Base class for expected failures."""


class TrackingUnavailableError(MltrackError):
    """The tracking server (or another service) cannot be reached."""


class NotFoundError(MltrackError):
    """A model, version, alias, experiment or run does not exist."""


class ConflictError(MltrackError):
    """The request conflicts with the current state (e.g. nothing to roll back to)."""


class PromotionRejectedError(MltrackError):
    """The candidate failed a quality gate; aliases were left unchanged."""


class MissingDependencyError(MltrackError):
    """An optional package a command needs is not installed (e.g. TensorFlow for keras)."""
