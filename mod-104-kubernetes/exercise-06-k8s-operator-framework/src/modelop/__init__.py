"""K8s Operator Framework."""

__version__ = "0.1.0"
