"""Model Monitoring Drift."""

__version__ = "0.1.0"
