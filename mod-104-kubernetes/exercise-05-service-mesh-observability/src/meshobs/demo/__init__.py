"""The demo model-serving stack: gateway -> model (v1, v2) -> features."""
