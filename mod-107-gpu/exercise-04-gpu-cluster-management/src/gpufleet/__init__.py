"""Gpu Cluster Management."""

__version__ = "0.1.0"
