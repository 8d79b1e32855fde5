"""Experiment Tracking Mlflow."""

__version__ = "0.1.0"
