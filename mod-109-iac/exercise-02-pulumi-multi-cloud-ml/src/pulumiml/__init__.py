"""Pulumi Multi Cloud Ml."""

__version__ = "0.1.0"
