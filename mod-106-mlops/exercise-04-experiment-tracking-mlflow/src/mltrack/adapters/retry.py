"""Retries with exponential backoff for transient errors (pure, clock injectable)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def call_with_retries(
    fn: Callable[[], T],
    *,
    retries: int,
    backoff_s: float,
    is_transient: Callable[[BaseException], bool],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`; on a transient error wait backoff_s * 2**attempt and try again.

    At most `retries` extra attempts; the last error is re-raised unchanged. Permanent errors
    (a 404, a validation error) are raised at once: retrying them only delays the answer.
    """
    # BEGIN SOLUTION: retry transient errors with exponential backoff
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            if attempt >= retries or not is_transient(exc):
                raise
            sleep(backoff_s * (2**attempt))
            attempt += 1
    # END SOLUTION
