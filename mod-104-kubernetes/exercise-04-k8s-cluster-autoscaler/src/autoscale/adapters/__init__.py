"""One module per external system: Prometheus HTTP API, Kubernetes API."""
