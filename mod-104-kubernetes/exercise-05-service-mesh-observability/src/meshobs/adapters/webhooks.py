"""Flagger-style webhooks: POST the rollout's state; any 2xx answer means "go"."""

from __future__ import annotations

from typing import Any

import httpx

from meshobs.delivery.spec import Webhook
from meshobs.spec import duration_seconds


class HttpWebhooks:
    def call(self, webhook: Webhook, payload: dict[str, Any]) -> tuple[bool, str]:
        try:
            response = httpx.post(webhook.url, json=payload,
                                  timeout=duration_seconds(webhook.timeout))
        except httpx.HTTPError as exc:
            return False, f"{webhook.url} unreachable ({type(exc).__name__})"
        ok = 200 <= response.status_code < 300
        return ok, f"HTTP {response.status_code}"
