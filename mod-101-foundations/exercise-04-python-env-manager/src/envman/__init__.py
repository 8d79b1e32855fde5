"""Python Env Manager."""

__version__ = "0.1.0"
