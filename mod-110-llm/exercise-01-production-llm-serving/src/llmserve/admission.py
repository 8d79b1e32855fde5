"""Admission control: API keys, priority tiers, per-key token buckets, the bounded queue.

Everything here decides BEFORE a request reaches the engine, so overload turns into fast
429s with a `Retry-After` instead of ever-growing latency for everyone. Three rules keep it
honest under bursts and against clients:
- the queue bound is an atomic counter (`AdmissionGate`): check and increment happen under
  one lock, so a burst cannot slip past between "look at the queue" and "join it";
- tokens/min is charged as a reservation (prompt + max_tokens) and settled with the tokens
  actually used when the request ends (`RateLimiter.settle`), so a request that stops early,
  is cancelled or is rejected later gets the unused tokens back;
- the scheduling priority comes from the API key's tier in the settings
  (`priority_for_key`), never from the request body alone.
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

    def give_back(self, amount: float) -> None:
        """Return unused units of an earlier `take` (never above capacity)."""
        self._refill()
        self.level = min(self.capacity, self.level + amount)


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

    def settle(self, key: str, reserved: int, used: int) -> None:
        """A request that reserved `reserved` tokens ended having used `used`: refund the rest."""
        # BEGIN SOLUTION: give the unused part of the reservation back to the key's bucket
        with self._lock:
            bucket = self._buckets.get(key, (None, None))[1]
            if bucket is not None and reserved > used:
                bucket.give_back(reserved - max(0, used))
        # END SOLUTION


class AdmissionGate:
    """At most `max_num_seqs + max_queue_size` requests inside the server at once.

    `try_enter` checks and counts under one lock: the bound holds exactly under any burst,
    because no request can pass the check before an earlier one is counted.
    """

    def __init__(self, max_num_seqs: int, max_queue_size: int) -> None:
        self.max_num_seqs = max_num_seqs
        self.max_queue_size = max_queue_size
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return self.max_num_seqs + self.max_queue_size

    def try_enter(self) -> Rejection | None:
        # BEGIN SOLUTION: check and count atomically; 429 with a drain estimate when full
        with self._lock:
            waiting = max(0, self.in_flight - self.max_num_seqs)
            running = self.in_flight - waiting
            rejection = check_queue(waiting, running, self.max_num_seqs, self.max_queue_size)
            if rejection is None:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
            return rejection
        # END SOLUTION

    def leave(self) -> None:
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)


def priority_for_key(key: str, tiers: dict[str, int], key_tiers: dict[str, str],
                     default_tier: str, requested: int = 0) -> int:
    """The scheduling priority of `key` (lower runs first), from its tier in the settings.

    The request's own `priority` can only make it LESS urgent (a larger number), never jump
    ahead of its tier: a batch job may yield, nobody may promote itself.
    """
    # BEGIN SOLUTION: the tier's priority; the body may only lower it
    tier = key_tiers.get(key, default_tier)
    return max(tiers[tier], requested)
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
