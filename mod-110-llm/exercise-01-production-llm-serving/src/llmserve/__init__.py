"""Production Llm Serving."""

__version__ = "0.1.0"
