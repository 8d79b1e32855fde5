"""Observability Stack."""

__version__ = "0.1.0"
