"""__TITLE__."""

__version__ = "0.1.0"
