"""Push RTO/RPO gauges to a Prometheus Pushgateway (grouped by job and instance)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from drkit.errors import UnavailableError


def push(url: str, job: str, gauges: dict[str, tuple[str, dict[str, str], float]],
         instance: str = "drkit") -> None:
    """`gauges`: metric name -> (help, labels, value). One push replaces the group."""
    registry = CollectorRegistry()
    by_name: dict[str, Gauge] = {}
    for key, (help_text, labels, value) in gauges.items():
        name = key.split("{", 1)[0]
        if name not in by_name:
            by_name[name] = Gauge(name, help_text, sorted(labels), registry=registry)
        metric = by_name[name]
        (metric.labels(**labels) if labels else metric).set(value)
    try:
        push_to_gateway(url, job=job, registry=registry,
                        grouping_key={"instance": instance}, timeout=5)
    except OSError as exc:
        raise UnavailableError(f"Pushgateway {url} unreachable: {exc}") from exc
