"""One module per external system: the Kubernetes API, Prometheus."""
