"""Ml Model Monitoring."""

__version__ = "0.1.0"
