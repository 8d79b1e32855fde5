"""Traffic generator: sends predictions to the demo service and, later, their true labels.

Knobs that make incidents happen on command: `drift` (feature shift in std devs, optionally
only after `drift_after` seconds), `label_noise` (share of flipped ground-truth labels),
`null_rate` (missing features), `latency_ms`/`error_rate` (set on the service's fault API).
Labels are sent `label_delay` seconds after the prediction, as real ground truth arrives late.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from modelmon.demo_model import FEATURES, World, outcome_value

log = logging.getLogger(__name__)


@dataclass
class TrafficConfig:
    service_url: str = "http://127.0.0.1:8080"
    model: str = "churn"
    rate: float = 20.0  # requests per second; 0 = as fast as possible
    count: int | None = None  # stop after this many requests
    duration: float | None = None  # or after this many seconds
    drift: float = 0.0
    drift_after: float = 0.0
    label_noise: float = 0.0
    null_rate: float = 0.0
    label_delay: float = 1.0
    seed: int = 0
    latency_ms: float | None = None
    error_rate: float | None = None


@dataclass
class TrafficStats:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    labels_sent: int = 0
    status_counts: dict[int, int] = field(default_factory=dict)


def set_faults(client: httpx.Client, service_url: str, latency_ms: float,
               error_rate: float) -> dict[str, float]:
    response = client.post(f"{service_url}/admin/faults",
                           json={"latency_ms": latency_ms, "error_rate": error_rate})
    response.raise_for_status()
    return dict(response.json())


def run_traffic(config: TrafficConfig, stop: Callable[[], bool] = lambda: False,
                client: httpx.Client | None = None) -> TrafficStats:
    """Drive traffic until `count`, `duration` or `stop()`; then flush the pending labels."""
    own_client = client is None
    http = client or httpx.Client(timeout=10.0)
    world = World(seed=config.seed, label_noise=config.label_noise)
    stats = TrafficStats()
    pending: list[tuple[float, str, int]] = []  # (due, id, label) min-heap
    started = time.monotonic()
    try:
        if config.latency_ms is not None or config.error_rate is not None:
            set_faults(http, config.service_url, config.latency_ms or 0.0,
                       config.error_rate or 0.0)
        while not stop():
            elapsed = time.monotonic() - started
            if config.count is not None and stats.sent >= config.count:
                break
            if config.duration is not None and elapsed >= config.duration:
                break
            world.drift = config.drift if elapsed >= config.drift_after else 0.0
            row = world.sample(1)
            truth = int(world.truth(row)[0])
            features: dict[str, float | None] = {
                name: float(value) for name, value in zip(FEATURES, row[0], strict=True)
            }
            if config.null_rate and world.rng.random() < config.null_rate:
                features[FEATURES[int(world.rng.integers(len(FEATURES)))]] = None
            response = http.post(f"{config.service_url}/models/{config.model}/predict",
                                 json={"features": features})
            stats.sent += 1
            stats.status_counts[response.status_code] = \
                stats.status_counts.get(response.status_code, 0) + 1
            if response.status_code == 200:
                stats.ok += 1
                heapq.heappush(pending, (time.monotonic() + config.label_delay,
                                         response.json()["id"], truth))
            else:
                stats.errors += 1
            _send_due_labels(http, config, pending, stats, time.monotonic())
            if config.rate > 0:
                next_at = started + stats.sent / config.rate
                time.sleep(max(0.0, next_at - time.monotonic()))
        _send_due_labels(http, config, pending, stats, float("inf"))
    finally:
        if own_client:
            http.close()
    return stats


def _send_due_labels(http: httpx.Client, config: TrafficConfig,
                     pending: list[tuple[float, str, int]], stats: TrafficStats,
                     now: float) -> None:
    while pending and pending[0][0] <= now:
        _, prediction_id, label = heapq.heappop(pending)
        http.post(f"{config.service_url}/feedback",
                  json={"id": prediction_id, "label": label,
                        "value": outcome_value(label)}).raise_for_status()
        stats.labels_sent += 1
