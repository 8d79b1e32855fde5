"""Per-key token buckets: each key may burst up to its per-minute limit, refilled continuously.

In-process state: with several replicas each one enforces the limit separately (use a shared
store such as Redis when that matters).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, overrides: dict[str, int] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.overrides = overrides or {}
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def limit_for(self, key: str) -> int:
        return self.overrides.get(key, self.per_minute)

    def acquire(self, key: str) -> tuple[bool, float]:
        """Take one token for `key`: (allowed, seconds until the next token if refused)."""
        limit = self.limit_for(key)
        rate = limit / 60.0
        now = self.clock()
        bucket = self._buckets.setdefault(key, _Bucket(float(limit), now))
        bucket.tokens = min(float(limit), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True, 0.0
        return False, (1.0 - bucket.tokens) / rate
