"""Admission control: API keys, per-key token buckets, and the bounded queue.

Everything here decides BEFORE a request reaches the engine, so overload turns into fast
429s with a `Retry-After` instead of ever-growing latency for everyone.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Rejection:
    """Why a request was not admitted, as an HTTP answer."""

    status: int
    message: str
    code: str
    retry_after_s: int | None = None


class TokenBucket:
    """`capacity` units that refill continuously at `capacity` per minute."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.clock = clock
        self.level = per_minute
        self.updated = clock()

    def _refill(self) -> None:
        # BEGIN SOLUTION: add what the elapsed time earned, capped at capacity
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now
        # END SOLUTION

    def wait_time(self, amount: float) -> float:
        """Seconds until `amount` is available (0 when it is now; inf when it never fits)."""
        # BEGIN SOLUTION: seconds until amount is there (0 now, inf if over capacity)
        self._refill()
        if amount > self.capacity:
            return math.inf
        return max(0.0, (amount - self.level) / self.rate)
        # END SOLUTION

    def take(self, amount: float) -> None:
        self._refill()
        self.level -= amount


class RateLimiter:
    """Requests/min and tokens/min buckets per API key (None disables a limit)."""

    def __init__(self, rpm: float | None, tpm: float | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.clock = clock
        self._buckets: dict[str, tuple[TokenBucket | None, TokenBucket | None]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, tokens: int) -> Rejection | None:
        """Charge one request and `tokens` tokens to `key`, or say how long to wait."""
        # BEGIN SOLUTION: per-key rpm and tpm buckets: 429 + Retry-After, else charge both
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = (
                    TokenBucket(self.rpm, self.clock) if self.rpm else None,
                    TokenBucket(self.tpm, self.clock) if self.tpm else None)
            requests, token_bucket = self._buckets[key]
            wait_r = requests.wait_time(1) if requests else 0.0
            wait_t = token_bucket.wait_time(tokens) if token_bucket else 0.0
            if wait_t == math.inf:
                return Rejection(429, f"request needs {tokens} tokens, more than the "
                                 f"{self.tpm:g} tokens/min limit of this key",
                                 "rate_limit_exceeded", 60)
            wait = max(wait_r, wait_t)
            if wait > 0:
                which = "requests" if wait_r >= wait_t else "tokens"
                return Rejection(429, f"rate limit of this key exceeded ({which} per minute)",
                                 "rate_limit_exceeded", max(1, math.ceil(wait)))
            if requests:
                requests.take(1)
            if token_bucket:
                token_bucket.take(tokens)
            return None
        # END SOLUTION


def check_api_key(authorization: str | None, allowed: list[str]) -> tuple[str, Rejection | None]:
    """The caller's key from `Authorization: Bearer ...` and whether it may call us."""
    # BEGIN SOLUTION: Bearer key from the header; 401 when keys are set and it is unknown
    key = ""
    if authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    if not allowed:
        return key or "anonymous", None
    if key not in allowed:
        return key, Rejection(401, "invalid or missing API key", "invalid_api_key")
    return key, None
    # END SOLUTION


def check_queue(waiting: int, running: int, max_num_seqs: int,
                max_queue_size: int) -> Rejection | None:
    """Bounded queue: at most `max_queue_size` requests wait beyond the running slots."""
    # BEGIN SOLUTION: 429 server_overloaded + Retry-After when slots and queue are full
    if waiting + running < max_num_seqs + max_queue_size:
        return None
    # A rough drain estimate: one batch "generation" per queued batch, at least a second.
    retry = 1 + waiting // max(1, max_num_seqs)
    return Rejection(429, f"server overloaded: {waiting} requests waiting "
                     f"(queue limit {max_queue_size}); retry later",
                     "server_overloaded", retry)
    # END SOLUTION
