"""Distributed Gpu Training."""

__version__ = "0.1.0"
