"""mlscaffold: generate standardised FastAPI model-serving projects and keep them up to date."""

__version__ = "0.1.0"
