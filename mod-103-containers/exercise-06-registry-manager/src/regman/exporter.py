"""Prometheus exporter: registry contents, signing coverage, replication and retention.

Registry numbers and replication pending/lag are gathered over the API (a walk costs one
request per tag, on both registries of each rule), at most once per `cache_seconds`; every
scrape inside that TTL is served from the last walk. Failures and retention totals come from
the run records in the state directory (`regman replicate` / `regman retention apply`).
`regman_scrape_duration_seconds`, `regman_walk_duration_seconds` and
`regman_cache_age_seconds` say what a scrape cost and how old its numbers are.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from regman.adapters.registry import RegistryClient
from regman.config import Settings
from regman.errors import RegmanError
from regman.inventory import RepositoryInventory, collect_inventory, matches_any
from regman.replication import ReplicationConfig, endpoint_client, rule_status
from regman.signing import SignatureVerifier
from regman.signing import load_policy as load_signing_policy
from regman.state import StateStore

log = logging.getLogger(__name__)

METRIC_NAMES = (
    "regman_up", "regman_repositories", "regman_tags", "regman_repository_bytes",
    "regman_last_push_age_seconds", "regman_signed_ratio", "regman_unsigned_images",
    "regman_replication_lag_seconds", "regman_replication_pending_images",
    "regman_replication_failures_total", "regman_replication_bytes_total",
    "regman_retention_deleted_manifests_total", "regman_retention_bytes_freed_total",
    "regman_scrape_duration_seconds", "regman_walk_duration_seconds",
    "regman_cache_age_seconds",
)


@dataclass
class _Cache:
    at: float = 0.0
    inventories: list[RepositoryInventory] = field(default_factory=list)
    ok: bool = False
    statuses: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # rule -> status
    walk_seconds: float = 0.0


class RegmanCollector(Collector):
    def __init__(self, client: RegistryClient, settings: Settings,
                 replication: ReplicationConfig | None = None) -> None:
        self.client = client
        self.settings = settings
        self.replication = replication
        self.store = StateStore(settings.state_dir)
        self.verifier = (SignatureVerifier(load_signing_policy(settings.signing_policy))
                         if settings.signing_policy else None)
        self._cache = _Cache()
        self._lock = threading.Lock()

    def _walk(self) -> _Cache:
        """The registry (and replication) walk, repeated at most every cache_seconds."""
        # BEGIN SOLUTION: refresh inventories and replication statuses only when stale
        with self._lock:
            fresh = time.monotonic() - self._cache.at < self.settings.exporter_cache_seconds
            if fresh and self._cache.at:
                return self._cache
            started = time.perf_counter()
            cache = _Cache()
            try:
                cache.inventories = collect_inventory(
                    self.client, storage_root=self.settings.storage_root,
                    verifier=self.verifier)
                cache.ok = True
            except RegmanError as exc:
                log.warning("registry walk failed: %s", exc.format_message())
                cache.inventories, cache.ok = self._cache.inventories, False
            cache.statuses = self._replication_statuses()
            cache.walk_seconds = time.perf_counter() - started
            cache.at = time.monotonic()
            self._cache = cache
            return cache
        # END SOLUTION

    def _replication_statuses(self) -> dict[str, dict[str, Any] | None]:
        out: dict[str, dict[str, Any] | None] = {}
        for rule in self.replication.rules if self.replication else []:
            assert self.replication is not None
            try:
                src = endpoint_client(self.replication.registries[rule.source], self.settings)
                dst = endpoint_client(self.replication.registries[rule.destination],
                                      self.settings)
                with src, dst:
                    out[rule.name] = rule_status(src, dst, rule, self.store)
            except RegmanError as exc:
                log.warning("replication status of %s failed: %s", rule.name,
                            exc.format_message())
                out[rule.name] = None
        return out

    def collect(self) -> Iterator[Metric]:
        # BEGIN SOLUTION: yield the registry gauges, then replication and retention metrics
        started = time.perf_counter()
        registry = self.client.host
        cache = self._walk()
        inventories, ok = cache.inventories, cache.ok
        yield _gauge("regman_up", "1 when the last registry walk succeeded",
                     ["registry"], [([registry], 1.0 if ok else 0.0)])
        yield _gauge("regman_repositories", "repositories in the registry", ["registry"],
                     [([registry], float(len(inventories)))])
        now = datetime.now(UTC)
        tags, size, age, ratio, unsigned = [], [], [], [], []
        for inv in inventories:
            labels = [registry, inv.repository]
            images = inv.tagged()
            signed = inv.signed_digests()
            tags.append((labels, float(sum(len(m.tags) for m in images))))
            size.append((labels, float(inv.unique_bytes())))
            stamps = [m.timestamp for m in images if m.timestamp]
            if stamps:
                age.append((labels, (now - max(stamps)).total_seconds()))
            n_unsigned = sum(1 for m in images if m.digest not in signed)
            ratio.append((labels, (len(images) - n_unsigned) / len(images) if images else 1.0))
            protected = "true" if matches_any(inv.repository,
                                              self.settings.protected_repositories) else "false"
            unsigned.append(([*labels, protected], float(n_unsigned)))
        repo = ["registry", "repository"]
        yield _gauge("regman_tags", "tags per repository (signature tags excluded)", repo, tags)
        yield _gauge("regman_repository_bytes", "bytes per repository, unique blobs counted "
                     "once", repo, size)
        yield _gauge("regman_last_push_age_seconds", "seconds since the newest image was "
                     "pushed (or built when push time is unknown)", repo, age)
        yield _gauge("regman_signed_ratio", "share of tagged images with a signature the "
                     "signing policy verifies",
                     repo, ratio)
        yield _gauge("regman_unsigned_images", "tagged images without a verified signature",
                     [*repo, "protected"], unsigned)
        yield from self._replication_metrics(cache)
        yield from self._retention_metrics()
        yield _gauge("regman_walk_duration_seconds", "seconds the last registry + replication "
                     "walk took", [], [([], cache.walk_seconds)])
        yield _gauge("regman_cache_age_seconds", "age of the walk this scrape reports "
                     "(refreshed every REGMAN_EXPORTER_CACHE_SECONDS)", [],
                     [([], time.monotonic() - cache.at)])
        yield _gauge("regman_scrape_duration_seconds", "seconds this scrape took", [],
                     [([], time.perf_counter() - started)])
        # END SOLUTION

    def _replication_metrics(self, cache: _Cache) -> Iterator[Metric]:
        lag = GaugeMetricFamily("regman_replication_lag_seconds",
                                "0 when in sync, else seconds since last fully in sync",
                                labels=["rule"])
        pend = GaugeMetricFamily("regman_replication_pending_images",
                                 "source images missing or different at the destination",
                                 labels=["rule"])
        fails = CounterMetricFamily("regman_replication_failures",
                                    "images that failed to replicate", labels=["rule"])
        moved = CounterMetricFamily("regman_replication_bytes", "bytes uploaded by replication",
                                    labels=["rule"])
        state = self.store.replication()
        for rule in self.replication.rules if self.replication else []:
            record = state.get(rule.name, {})
            fails.add_metric([rule.name], float(record.get("failures_total", 0)))
            moved.add_metric([rule.name], float(record.get("bytes_total", 0)))
            status = cache.statuses.get(rule.name)
            if status is None:
                continue
            pend.add_metric([rule.name], float(status["pending"]))
            if status["lag_seconds"] is not None:
                lag.add_metric([rule.name], float(status["lag_seconds"]))
        yield from (lag, pend, fails, moved)

    def _retention_metrics(self) -> Iterator[Metric]:
        deleted = CounterMetricFamily("regman_retention_deleted_manifests",
                                      "manifests deleted by retention", labels=["registry"])
        freed = CounterMetricFamily("regman_retention_bytes_freed",
                                    "bytes freed by retention + GC", labels=["registry"])
        for registry, entry in self.store.retention().items():
            deleted.add_metric([registry], float(entry.get("deleted_total", 0)))
            freed.add_metric([registry], float(entry.get("bytes_freed_total", 0)))
        yield from (deleted, freed)


def _gauge(name: str, doc: str, labels: list[str],
           samples: list[tuple[list[str], float]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


def build_registry(collector: RegmanCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def serve(collector: RegmanCollector, host: str, port: int) -> None:
    """Serve /metrics until interrupted."""
    start_http_server(port, addr=host, registry=build_registry(collector))
    while True:
        time.sleep(3600)
