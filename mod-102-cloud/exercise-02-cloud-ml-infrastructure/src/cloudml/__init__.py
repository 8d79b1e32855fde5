"""Cloud ML infrastructure with Terraform."""

__version__ = "0.1.0"
