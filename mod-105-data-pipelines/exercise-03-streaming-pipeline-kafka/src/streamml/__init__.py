"""Streaming Pipeline Kafka."""

__version__ = "0.1.0"
