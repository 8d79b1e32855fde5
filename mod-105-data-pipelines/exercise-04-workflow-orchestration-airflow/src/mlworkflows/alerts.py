"""Slack-compatible alert payloads (`text` for plain webhooks, `blocks` for Slack's layout)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any


def slack_payload(title: str, fields: dict[str, Any], severity: str = "error") -> dict[str, Any]:
    # BEGIN SOLUTION: Slack shape: text, header + section blocks, severity, non-empty fields
    icon = {"error": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}
    lines = [f"*{k}*: {v}" for k, v in fields.items() if v not in (None, "")]
    text = f"{icon.get(severity, '')} {title}".strip()
    return {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}},
        ],
        "severity": severity,
        "fields": {k: v for k, v in fields.items() if v not in (None, "")},
    }
    # END SOLUTION


def task_failure_payload(context: dict[str, Any]) -> dict[str, Any]:
    """From an Airflow task context (on_failure_callback)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    exception = context.get("exception")
    return slack_payload(
        f"Airflow task failed: {getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')}",
        {"dag_id": getattr(ti, "dag_id", None), "task_id": getattr(ti, "task_id", None),
         "run_id": getattr(dag_run, "run_id", None) or getattr(ti, "run_id", None),
         "try_number": getattr(ti, "try_number", None),
         "error": str(exception)[:500] if exception else None},
    )


def deadline_payload(context: dict[str, Any] | None, target_minutes: float) -> dict[str, Any]:
    """From the simple context the scheduler hands Deadline Alert callbacks."""
    dag_run = (context or {}).get("dag_run") or {}
    deadline = (context or {}).get("deadline") or {}
    deadline_time = deadline.get("deadline_time")
    if isinstance(deadline_time, datetime):  # the scheduler passes a datetime: keep JSON-safe
        deadline_time = deadline_time.isoformat()
    return slack_payload(
        f"Deadline missed: {dag_run.get('dag_id', '?')} not finished within "
        f"{target_minutes:g} min",
        {"dag_id": dag_run.get("dag_id"), "run_id": dag_run.get("dag_run_id"),
         "state": dag_run.get("state"), "queued_at": dag_run.get("queued_at"),
         "deadline": deadline_time},
        severity="warning",
    )


def email_message(payload: dict[str, Any], sender: str, recipients: list[str]) -> EmailMessage:
    """The same alert as an e-mail: the title as subject, one `name: value` line per field."""
    # BEGIN SOLUTION: subject from the header block, plain-text body of the fields
    title = payload["blocks"][0]["text"]["text"] if payload.get("blocks") else payload["text"]
    message = EmailMessage()
    message["Subject"] = f"[mlworkflows {payload.get('severity', 'error')}] {title}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    lines = [title, ""] + [f"{k}: {v}" for k, v in (payload.get("fields") or {}).items()]
    message.set_content("\n".join(lines) + "\n")
    return message
    # END SOLUTION
