"""Production Rag System."""

__version__ = "0.1.0"
