"""Scheduled reports with APScheduler: cron triggers, a SQLite job store, misfire grace, and
a ledger so that each period's report is sent once, even across restarts.

APScheduler alone gives at-least-once: after a crash between "sent" and "next run saved",
or when a misfired run is caught up, a job can fire again for the same period. The ledger
(a SQLite table next to the job store) makes delivery idempotent per (report, period):
a run first claims the period; if the claim exists it does nothing. A failed send releases
the claim so the next run retries.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from costwatch.config import ReportSettings, Settings

log = logging.getLogger(__name__)


def report_period(kind: str, fired_at: datetime) -> tuple[date, date]:
    """The last complete period before `fired_at`: yesterday, last week (Mon-Sun), last month."""
    # BEGIN SOLUTION: yesterday, last Monday-Sunday, or last calendar month
    today = fired_at.date()
    if kind == "daily":
        return today - timedelta(days=1), today
    if kind == "weekly":
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7), this_monday
    if kind == "monthly":
        first = today.replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        return previous, first
    raise ValueError(f"unknown report period {kind!r}")
    # END SOLUTION


class SentLedger:
    """(report, period start) -> state in SQLite: 'sending' while claimed, then 'sent'."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("CREATE TABLE IF NOT EXISTS costwatch_sent_reports (report TEXT, "
                        "period TEXT, state TEXT, at TEXT, PRIMARY KEY (report, period))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def claim(self, report: str, period: date) -> bool:
        """True if this caller now owns the period (nobody sent or is sending it)."""
        # BEGIN SOLUTION: an atomic insert-if-absent is the claim; a conflict means already taken
        with self._connect() as con:
            cursor = con.execute(
                "INSERT INTO costwatch_sent_reports VALUES (?, ?, 'sending', ?) "
                "ON CONFLICT (report, period) DO NOTHING",
                (report, period.isoformat(), datetime.now(UTC).isoformat()))
            return cursor.rowcount == 1
        # END SOLUTION

    def mark_sent(self, report: str, period: date) -> None:
        with self._connect() as con:
            con.execute("UPDATE costwatch_sent_reports SET state = 'sent', at = ? "
                        "WHERE report = ? AND period = ?",
                        (datetime.now(UTC).isoformat(), report, period.isoformat()))

    def release(self, report: str, period: date) -> None:
        with self._connect() as con:
            con.execute("DELETE FROM costwatch_sent_reports WHERE report = ? AND period = ? "
                        "AND state = 'sending'", (report, period.isoformat()))

    def sent(self) -> list[tuple[str, str, str]]:
        with self._connect() as con:
            return [(str(r[0]), str(r[1]), str(r[2])) for r in con.execute(
                "SELECT report, period, state FROM costwatch_sent_reports ORDER BY 1, 2")]


def deliver(settings: Settings, report: ReportSettings, start: date, end: date) -> str:
    """Build, render and send one report; returns its subject."""
    from costwatch import reports
    from costwatch.adapters.notify import post_webhook, send_email
    from costwatch.store import Store
    from costwatch.summary import build_summary

    with Store(settings.store, read_only=True) as store:
        summary = build_summary(store, start, end, budgets=settings.budgets,
                                detector=settings.anomaly.detector())
    title = f"Cloud cost report ({report.name})"
    subject = reports.subject(summary, title)
    if report.email_to:
        html = reports.render(summary, "html", title) if report.format == "html" else None
        smtp = settings.smtp
        send_email(smtp.host, smtp.port, smtp.sender, report.email_to, subject,
                   reports.render(summary, "markdown", title), html, smtp.username,
                   smtp.password, smtp.starttls)
    if report.webhook_url:
        post_webhook(report.webhook_url, reports.slack_payload(summary, title))
    return subject


def run_report(settings: Settings, name: str, fired_at: datetime | None = None,
               send: Callable[[Settings, ReportSettings, date, date], str] = deliver
               ) -> str | None:
    """Send report `name` for the period before `fired_at`, once. None if already sent."""
    report = settings.report(name)
    if report is None:
        raise KeyError(f"no report named {name!r} in the configuration")
    start, end = report_period(report.period, fired_at or datetime.now(UTC))
    ledger = SentLedger(settings.scheduler_db)
    if not ledger.claim(name, start):
        log.info("report %s for %s already sent; skipping", name, start)
        return None
    try:
        subject = send(settings, report, start, end)
    except BaseException:
        ledger.release(name, start)
        raise
    ledger.mark_sent(name, start)
    return subject


def scheduled_job(config_file: str | None, name: str) -> None:
    """What the job store references (by module path, so it survives restarts)."""
    settings = Settings.load(Path(config_file) if config_file else None)
    run_report(settings, name)


def build_scheduler(settings: Settings, config_file: Path | None, blocking: bool = True
                    ) -> Any:
    """A scheduler with one cron job per configured report, persisted in SQLite."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    kind = BlockingScheduler if blocking else BackgroundScheduler
    store = SQLAlchemyJobStore(url=f"sqlite:///{settings.scheduler_db.resolve()}")
    scheduler = kind(jobstores={"default": store}, timezone=settings.timezone,
                     job_defaults={"coalesce": True, "max_instances": 1,
                                   "misfire_grace_time": settings.misfire_grace_s})
    for report in settings.reports:
        scheduler.add_job("costwatch.scheduling:scheduled_job",
                          CronTrigger.from_crontab(report.cron, timezone=settings.timezone),
                          args=[str(config_file) if config_file else None, report.name],
                          id=f"report:{report.name}", name=report.name,
                          replace_existing=True)
    return scheduler
