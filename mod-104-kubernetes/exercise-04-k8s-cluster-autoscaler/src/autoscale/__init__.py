"""K8s Cluster Autoscaler."""

__version__ = "0.1.0"
