"""Airflow callbacks: task failures and missed deadlines become webhook and e-mail alerts.

They read the webhook URL and the SMTP settings from Settings at call time (the environment
of the process that runs them: a task, or the triggerer for Deadline Alerts), so one DAG
file works with or without alerting configured. A failed alert is logged, never raised: an
alerting outage must not change the outcome of the pipeline it reports on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mlworkflows.adapters.email import send_email
from mlworkflows.adapters.webhook import apost_webhook, post_webhook
from mlworkflows.alerts import (
    deadline_payload,
    email_message,
    slack_payload,
    task_failure_payload,
)
from mlworkflows.config import Settings

log = logging.getLogger(__name__)


def send_alert(payload: dict[str, Any], webhook_url: str | None = None) -> bool:
    """Post to the webhook and e-mail the recipients (each when configured).

    True when at least one channel is configured and every configured one delivered.
    """
    # BEGIN SOLUTION: each configured channel; log (never raise) a missing or failed one
    settings = Settings.load()
    url = webhook_url or settings.webhook_url
    recipients = settings.alert_recipients()
    if not url and not recipients:
        log.warning("alert not sent (neither MLWORKFLOWS_WEBHOOK_URL nor "
                    "MLWORKFLOWS_SMTP_HOST + MLWORKFLOWS_ALERT_EMAIL_TO set): %s",
                    payload["text"])
        return False
    delivered = True
    if url:
        try:
            post_webhook(url, payload)
        except Exception as exc:  # alerting must not fail the task it reports on
            log.error("alert to %s failed: %s", url, exc)
            delivered = False
    if recipients:
        delivered = _send_email_alert(settings, payload, recipients) and delivered
    return delivered
    # END SOLUTION


def _send_email_alert(settings: Settings, payload: dict[str, Any], recipients: list[str]) -> bool:
    try:
        send_email(settings, email_message(payload, settings.alert_email_from, recipients))
    except Exception as exc:  # as for the webhook: log, never raise
        log.error("alert e-mail via %s:%s failed: %s", settings.smtp_host, settings.smtp_port,
                  exc)
        return False
    return True


def on_task_failure(context: Any) -> None:
    """`on_failure_callback` for every task (set through default_args)."""
    send_alert(task_failure_payload(dict(context)))


def alert_bad_data(title: str, fields: dict[str, Any]) -> bool:
    return send_alert(slack_payload(title, fields, severity="error"))


async def on_deadline_missed(target_minutes: float = 0.0, webhook_url: str | None = None,
                             context: dict[str, Any] | None = None) -> str:
    """Deadline Alert callback (AsyncCallback): runs in the triggerer when a run is late.

    Returns a one-line summary: the triggerer stores it as the callback's output, a text
    column (a dict there crashes the triggerer on SQLite, and with it every watcher trigger).
    """
    # BEGIN SOLUTION: the deadline payload to the webhook (awaited) and by e-mail (a thread)
    payload = deadline_payload(context, target_minutes)
    settings = Settings.load()
    url = webhook_url or settings.webhook_url
    recipients = settings.alert_recipients()
    posted = False
    if url:
        try:
            await apost_webhook(url, payload)
            posted = True
        except Exception as exc:  # one dead channel must not silence the other
            log.error("deadline alert to %s failed: %s", url, exc)
    emailed = False
    if recipients:
        emailed = await asyncio.to_thread(_send_email_alert, settings, payload, recipients)
    if not url and not recipients:
        log.warning("deadline alert not sent (no webhook, no e-mail): %s", payload["text"])
    webhook_state = ("posted" if posted else "failed") if url else "not configured"
    email_state = ("sent" if emailed else "failed") if recipients else "not configured"
    return f"{payload['text']} (webhook: {webhook_state}; e-mail: {email_state})"
    # END SOLUTION
