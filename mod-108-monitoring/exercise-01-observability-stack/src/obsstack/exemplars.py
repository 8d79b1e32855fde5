"""Exemplars in prometheus_client's multiprocess mode.

client_python keeps multiprocess metric values in per-process mmap files and merges them at
scrape time, but exemplars live only in process memory, so `MultiProcessCollector` exposes
none (prometheus/client_python#826, open). This module adds the missing piece the same way:

- `ExemplarStore` (one per worker) remembers, per histogram child and bucket, the latest
  exemplar (trace id, value, timestamp) and writes them to `exemplars_<pid>.json` in the
  multiprocess directory (temp file + rename, at most every `flush_interval` seconds and on
  exit), so a scrape served by any worker sees every worker's exemplars;
- `MultiProcessExemplarCollector` runs the usual multiprocess merge and attaches to each
  bucket sample the newest exemplar any process recorded for it; exposed with the
  OpenMetrics format (the text format has no exemplars).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.samples import Exemplar, Sample

Key = tuple[str, tuple[tuple[str, str], ...], str]  # (metric name, labels, le)


def bucket_for(value: float, buckets: Sequence[float]) -> str:
    """The `le` label of the smallest bucket holding `value` (as client_python writes it)."""
    for bound in buckets:
        if value <= bound:
            return _le(bound)
    return "+Inf"


def _le(bound: float) -> str:
    if math.isinf(bound):
        return "+Inf"
    return repr(float(bound))


def _encode(key: Key) -> str:
    return json.dumps([key[0], [list(p) for p in key[1]], key[2]])


def _decode(text: str) -> Key:
    name, labels, le = json.loads(text)
    return str(name), tuple((str(k), str(v)) for k, v in labels), str(le)


class ExemplarStore:
    """Latest exemplar per (histogram, labels, bucket) of this process, shared by file."""

    def __init__(self, directory: Path, flush_interval: float = 0.5) -> None:
        self.directory = Path(directory)
        self.flush_interval = flush_interval
        self.path = self.directory / f"exemplars_{os.getpid()}.json"
        self._lock = threading.Lock()
        self._exemplars: dict[Key, tuple[dict[str, str], float, float]] = {}
        self._dirty = False
        self._last_flush = 0.0
        self._timer: threading.Timer | None = None
        atexit.register(self.flush)

    def record(self, metric: str, labels: Mapping[str, str], value: float,
               buckets: Sequence[float], exemplar: Mapping[str, str]) -> None:
        """Keep `exemplar` (e.g. {"trace_id": ...}) for the bucket `value` falls in."""
        # BEGIN SOLUTION
        key: Key = (metric, tuple(sorted((k, str(v)) for k, v in labels.items())),
                    bucket_for(value, buckets))
        with self._lock:
            self._exemplars[key] = (dict(exemplar), float(value), time.time())
            self._dirty = True
            due = time.monotonic() - self._last_flush >= self.flush_interval
            if not due and self._timer is None:
                self._timer = threading.Timer(self.flush_interval, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.flush()
        # END SOLUTION

    def flush(self) -> None:
        """Write this process's exemplars atomically (readers never see half a file)."""
        # BEGIN SOLUTION
        with self._lock:
            self._timer = None
            if not self._dirty:
                return
            payload = {_encode(k): [v[0], v[1], v[2]] for k, v in self._exemplars.items()}
            self._dirty = False
            self._last_flush = time.monotonic()
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".exemplars-", dir=self.directory)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(payload, handle)
            Path(tmp).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise
        # END SOLUTION


def read_exemplars(directory: Path) -> dict[Key, Exemplar]:
    """The newest exemplar per key across every process's file (unreadable files skipped:
    a file is only ever replaced whole, so that means it vanished)."""
    # BEGIN SOLUTION
    merged: dict[Key, Exemplar] = {}
    for path in sorted(Path(directory).glob("exemplars_*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for raw_key, (labels, value, timestamp) in data.items():
            key = _decode(raw_key)
            current = merged.get(key)
            if current is None or float(timestamp) > float(current.timestamp or 0):
                merged[key] = Exemplar(dict(labels), float(value), float(timestamp))
    return merged
    # END SOLUTION


class MultiProcessExemplarCollector:
    """MultiProcessCollector + the exemplars every worker recorded, merged at scrape time."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._inner = MultiProcessCollector(  # type: ignore[no-untyped-call]
            CollectorRegistry(), path=str(directory))

    def collect(self) -> Iterable[Metric]:
        # BEGIN SOLUTION
        exemplars = read_exemplars(self.directory)
        for metric in self._inner.collect():  # type: ignore[no-untyped-call]
            if metric.type == "histogram" and exemplars:
                samples = []
                for sample in metric.samples:
                    if sample.name.endswith("_bucket"):
                        labels = {k: v for k, v in sample.labels.items() if k != "le"}
                        key: Key = (metric.name, tuple(sorted(labels.items())),
                                    _normalise_le(sample.labels.get("le", "")))
                        found = exemplars.get(key)
                        if found is not None:
                            sample = Sample(sample.name, sample.labels, sample.value,
                                            sample.timestamp, found)
                    samples.append(sample)
                metric.samples = samples
            yield metric
        # END SOLUTION


def _normalise_le(le: str) -> str:
    if le in {"+Inf", "inf", "Inf"}:
        return "+Inf"
    try:
        return repr(float(le))
    except ValueError:
        return le


def exemplar_summary(samples: Iterable[Any]) -> list[str]:
    """Trace ids of the exemplars in parsed samples (helper for the CLI and tests)."""
    return [s.exemplar.labels["trace_id"] for s in samples
            if getattr(s, "exemplar", None) and "trace_id" in s.exemplar.labels]
