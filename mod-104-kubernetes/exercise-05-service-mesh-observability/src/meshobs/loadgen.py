"""Steady user traffic against the gateway, counting what users actually saw.

The rollout is judged by what the mesh measures; this counts what users experienced
(status per model version), which is how the benchmark compares an analysed rollout with a
big-bang switch.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class LoadResult:
    statuses: Counter[int] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500 or code == 0)


class LoadGenerator:
    """`rate` requests/s from `workers` threads until stopped; thread-safe counters."""

    def __init__(self, url: str, rate: float = 30.0, workers: int = 3,
                 headers: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/") + "/predict"
        self.rate = rate
        self.workers = workers
        self.headers = headers or {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.result = LoadResult()
        self._seq = 0

    def _worker(self) -> None:
        period = self.workers / self.rate
        with httpx.Client(timeout=10) as client:
            next_at = time.monotonic()
            while not self._stop.is_set():
                with self._lock:
                    self._seq += 1
                    entity = f"user-{self._seq % 500}"
                start = time.perf_counter()
                try:
                    response = client.post(self.url, json={"entity": entity},
                                           headers=self.headers)
                    code = response.status_code
                    version = response.json().get("model_version", "") if code == 200 else ""
                except (httpx.HTTPError, ValueError):
                    code, version = 0, ""
                elapsed = (time.perf_counter() - start) * 1000
                with self._lock:
                    self.result.statuses[code] += 1
                    if version:
                        self.result.versions[version] += 1
                    self.result.latencies_ms.append(elapsed)
                next_at += period
                delay = next_at - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_at = time.monotonic()

    def start(self) -> LoadGenerator:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._worker, daemon=True, name=f"load-{i}")
                         for i in range(self.workers)]
        for thread in self._threads:
            thread.start()
        return self

    def snapshot(self) -> LoadResult:
        with self._lock:
            return LoadResult(Counter(self.result.statuses), Counter(self.result.versions),
                              list(self.result.latencies_ms))

    def reset(self) -> None:
        with self._lock:
            self.result = LoadResult()

    def stop(self) -> LoadResult:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        return self.snapshot()


def send(url: str, count: int, headers: dict[str, str] | None = None) -> LoadResult:
    """`count` sequential requests (for exact-count checks such as weight splits)."""
    result = LoadResult()
    with httpx.Client(timeout=10) as client:
        for i in range(count):
            start = time.perf_counter()
            try:
                response = client.post(url.rstrip("/") + "/predict",
                                       json={"entity": f"probe-{i}"}, headers=headers or {})
                code = response.status_code
                if code == 200:
                    result.versions[response.json().get("model_version", "")] += 1
            except (httpx.HTTPError, ValueError):
                code = 0
            result.statuses[code] += 1
            result.latencies_ms.append((time.perf_counter() - start) * 1000)
    return result
