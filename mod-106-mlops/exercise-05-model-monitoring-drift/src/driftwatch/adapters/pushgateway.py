"""Push a registry to the Prometheus Pushgateway (PUT: the group is replaced as a whole)."""

from __future__ import annotations

from urllib.error import URLError

from prometheus_client import CollectorRegistry, push_to_gateway

from driftwatch.errors import UnavailableError
from driftwatch.metrics import JOB


def push(url: str, registry: CollectorRegistry, model: str, version: str,
         timeout: float = 10.0) -> None:
    try:
        push_to_gateway(url, job=JOB, registry=registry,
                        grouping_key={"model": model, "version": version}, timeout=timeout)
    except (URLError, OSError) as exc:
        raise UnavailableError(f"Pushgateway at {url} is not reachable ({exc})") from exc
