"""One module per external system: HAProxy, Prometheus, webhooks."""
