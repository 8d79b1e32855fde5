"""Gpu Performance Optimization."""

__version__ = "0.1.0"
