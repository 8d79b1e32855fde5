"""Cicd Ml Pipelines."""

__version__ = "0.1.0"
