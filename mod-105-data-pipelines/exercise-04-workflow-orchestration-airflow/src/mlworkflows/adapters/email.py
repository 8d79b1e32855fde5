"""Send alert e-mails over SMTP (stdlib smtplib): the same alerts the webhook gets."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from mlworkflows.config import Settings


def send_email(settings: Settings, message: EmailMessage) -> None:
    """Deliver `message` through `settings.smtp_host`; raises OSError/SMTPException on failure."""
    # BEGIN SOLUTION: connect, optional STARTTLS and login, send
    if not settings.smtp_host:
        raise ValueError("MLWORKFLOWS_SMTP_HOST is not set")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                      timeout=settings.smtp_timeout_s) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)
    # END SOLUTION
