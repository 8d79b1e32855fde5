"""Traffic for the demo: prediction requests at a steady rate, and fault injection."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class TrafficStats:
    sent: int = 0
    codes: Counter[int] = field(default_factory=Counter)
    trace_ids: list[str] = field(default_factory=list)
    failed_trace_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "codes": {str(k): v for k, v in sorted(self.codes.items())},
                "errors": sum(v for k, v in self.codes.items() if k >= 500)}


def send_one(client: httpx.Client, gateway_url: str, i: int, tenant: str = "acme"
             ) -> tuple[int, str]:
    """One prediction; returns (status code, trace id from the traceresponse or body)."""
    try:
        response = client.post(f"{gateway_url.rstrip('/')}/predict",
                               json={"entity_id": f"user-{i % 500}", "tenant": tenant})
    except httpx.HTTPError:
        return 0, ""
    trace_id = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        trace_id = str(body.get("trace_id", "")) if isinstance(body, dict) else ""
    return response.status_code, trace_id


def run_traffic(gateway_url: str, rate: float, duration: float | None = None,
                count: int | None = None, stop: threading.Event | None = None,
                stats: TrafficStats | None = None) -> TrafficStats:
    """Send `rate` requests per second for `duration` seconds or `count` requests."""
    stats = stats or TrafficStats()
    stop = stop or threading.Event()
    interval = 1.0 / rate if rate > 0 else 0.0
    start = time.monotonic()
    with httpx.Client(timeout=10) as client:
        i = 0
        while not stop.is_set():
            if count is not None and i >= count:
                break
            if duration is not None and time.monotonic() - start >= duration:
                break
            code, trace_id = send_one(client, gateway_url, i)
            stats.sent += 1
            stats.codes[code] += 1
            if trace_id:
                stats.trace_ids.append(trace_id)
            i += 1
            delay = start + i * interval - time.monotonic()
            if delay > 0:
                stop.wait(delay)
    return stats


def set_faults(service_url: str, error_rate: float, latency_ms: float) -> dict[str, Any]:
    response = httpx.post(f"{service_url.rstrip('/')}/admin/faults",
                          json={"error_rate": error_rate, "latency_ms": latency_ms},
                          timeout=10)
    response.raise_for_status()
    return dict(response.json())
