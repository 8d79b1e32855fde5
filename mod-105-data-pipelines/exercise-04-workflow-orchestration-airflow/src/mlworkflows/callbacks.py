"""Airflow callbacks: task failures and missed deadlines become webhook alerts.

They read the webhook URL from Settings at call time (the scheduler's environment), so one DAG
file works with or without alerting configured. A failed alert is logged, never raised: an
alerting outage must not change the outcome of the pipeline it reports on.
"""

from __future__ import annotations

import logging
from typing import Any

from mlworkflows.adapters.webhook import apost_webhook, post_webhook
from mlworkflows.alerts import deadline_payload, slack_payload, task_failure_payload
from mlworkflows.config import Settings

log = logging.getLogger(__name__)


def send_alert(payload: dict[str, Any], webhook_url: str | None = None) -> bool:
    # BEGIN SOLUTION: POST the payload; log (never raise) a missing URL or a failed POST
    url = webhook_url or Settings.load().webhook_url
    if not url:
        log.warning("alert not sent (MLWORKFLOWS_WEBHOOK_URL unset): %s", payload["text"])
        return False
    try:
        post_webhook(url, payload)
    except Exception as exc:  # alerting must not fail the task it reports on
        log.error("alert to %s failed: %s", url, exc)
        return False
    return True
    # END SOLUTION


def on_task_failure(context: Any) -> None:
    """`on_failure_callback` for every task (set through default_args)."""
    send_alert(task_failure_payload(dict(context)))


def alert_bad_data(title: str, fields: dict[str, Any]) -> bool:
    return send_alert(slack_payload(title, fields, severity="error"))


async def on_deadline_missed(target_minutes: float = 0.0, webhook_url: str | None = None,
                             context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Deadline Alert callback (AsyncCallback): runs in the triggerer when a run is late."""
    # BEGIN SOLUTION: build the deadline payload and await the webhook POST when a URL is set
    payload = deadline_payload(context, target_minutes)
    url = webhook_url or Settings.load().webhook_url
    if url:
        await apost_webhook(url, payload)
    else:
        log.warning("deadline alert not sent (no webhook): %s", payload["text"])
    return {"sent": bool(url), "text": payload["text"]}
    # END SOLUTION
