"""POST alert payloads to a Slack-compatible incoming webhook."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0) -> int:
    response = httpx.post(url, json=payload, timeout=timeout)
    response.raise_for_status()
    return response.status_code


async def apost_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0) -> int:
    """For Deadline Alert callbacks, which run as coroutines in the triggerer."""
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.post(url, json=payload)
        response.raise_for_status()
        return response.status_code
