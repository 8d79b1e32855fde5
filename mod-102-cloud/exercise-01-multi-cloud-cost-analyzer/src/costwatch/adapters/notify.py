"""Delivery: e-mail over SMTP (smtplib) and webhooks (Slack-style JSON over HTTP, httpx)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import httpx

from costwatch.errors import ProviderError


def send_email(host: str, port: int, sender: str, recipients: list[str], subject: str,
               text: str, html: str | None = None, username: str | None = None,
               password: str | None = None, starttls: bool = False,
               timeout: float = 30.0) -> None:
    """One multipart/alternative message: Markdown text for plain clients, HTML for others."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            if starttls:
                smtp.starttls()
            if username:
                smtp.login(username, password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise ProviderError("smtp", f"cannot send to {host}:{port}: {exc}") from exc


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 15.0) -> None:
    try:
        response = httpx.post(url, json=payload, timeout=timeout)
    except httpx.HTTPError as exc:
        raise ProviderError("webhook", f"cannot reach {url}: {exc}") from exc
    if response.status_code >= 300:
        raise ProviderError("webhook", f"{url} answered {response.text[:80]!r}",
                            response.status_code)
