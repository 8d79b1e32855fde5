"""Progressive delivery, Flagger-like: canary, A/B and blue-green analysis over Prometheus."""
