"""Reports delivered for real: e-mail to a local aiosmtpd, a webhook to a local receiver,
and scheduled jobs (APScheduler, SQLite job store) that send each period once."""

from __future__ import annotations

import functools
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from aiinfra_shared.procs import SmtpServer
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from costwatch.cli import cli
from costwatch.config import Settings
from costwatch.currency import RateTable
from costwatch.focus import normalize
from costwatch.sample import generate
from costwatch.scheduling import SentLedger, build_scheduler, report_period, run_report
from costwatch.store import Store
from tests.conftest import Lazy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def recent_store_lazy(tmp_path_factory: pytest.TempPathFactory) -> Lazy[Path]:
    return Lazy(lambda: _recent_store(tmp_path_factory))


def _recent_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six weeks of synthetic spend ending yesterday, with one planted anomaly."""
    path = tmp_path_factory.mktemp("reports") / "costs.duckdb"
    today = datetime.now(UTC).date()
    start = today - timedelta(days=42)
    table, _ = generate(start, 42, 6, seed=11)
    costs = table.column("BilledCost").to_pylist()
    costs[41] += 2000.0  # resource 0, yesterday
    table = table.set_column(table.schema.get_field_index("BilledCost"), "BilledCost",
                             pa.array(costs))
    table = table.set_column(table.schema.get_field_index("EffectiveCost"), "EffectiveCost",
                             pa.array(costs))
    with Store(path) as store:
        store.replace_period(normalize(table, source="synthetic", rates=RateTable()),
                             "synthetic", start, today)
    return path


def _invoke(store: Path, *args: str, **env: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"COSTWATCH_STORE": str(store), **env},
                              catch_exceptions=False)


@pytest.mark.points(4)
def test_report_by_email(recent_store_lazy: Lazy[Path], smtp_server: SmtpServer) -> None:
    recent_store = recent_store_lazy.get()
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    result = _invoke(recent_store, "report", "--email", "finops@example.com", "--start",
                     str(yesterday - timedelta(days=6)), COSTWATCH_SMTP__PORT=str(smtp_server.port))
    assert result.exit_code == 0, result.output
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "finops@example.com"
    assert message["Subject"].startswith("Cloud cost report: $")
    assert "1 anomalies" in message["Subject"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<h2>Anomalies</h2>" in html and str(yesterday) in html
    assert "## Anomalies" in text and "instance/i-000000" in text


@pytest.mark.points(3)
def test_report_to_webhook(recent_store_lazy: Lazy[Path], httpserver: HTTPServer) -> None:
    recent_store = recent_store_lazy.get()
    httpserver.expect_request("/hooks/costs", method="POST").respond_with_data("ok")
    result = _invoke(recent_store, "report", "--webhook", httpserver.url_for("/hooks/costs"))
    assert result.exit_code == 0, result.output
    [(request, _)] = httpserver.log
    payload = json.loads(request.get_data())
    assert payload["text"].startswith("Cloud cost report: $")
    texts = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert any(t.startswith("*Anomalies*") for t in texts)
    assert any("*AWS*" in t for t in texts)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_webhook_error_is_one_line(recent_store_lazy: Lazy[Path], httpserver: HTTPServer) -> None:
    recent_store = recent_store_lazy.get()
    httpserver.expect_request("/hooks/costs").respond_with_data("no_team", status=404)
    result = _invoke(recent_store, "report", "--webhook", httpserver.url_for("/hooks/costs"))
    assert result.exit_code == 5
    assert result.output.strip().splitlines()[-1].startswith("error: webhook:")


def test_report_periods() -> None:
    fired = datetime(2026, 11, 4, 8, tzinfo=UTC)  # a Wednesday
    assert report_period("daily", fired) == (date(2026, 11, 3), date(2026, 11, 4))
    assert report_period("weekly", fired) == (date(2026, 10, 26), date(2026, 11, 2))
    assert report_period("monthly", fired) == (date(2026, 10, 1), date(2026, 11, 1))


@pytest.mark.points(3)
def test_ledger_sends_once_and_retries_after_a_failure(tmp_path: Path) -> None:
    settings = Settings(scheduler_db=tmp_path / "s.sqlite",
                        reports=[{"name": "daily", "period": "daily"}])  # type: ignore[list-item]
    sent: list[date] = []
    fired = datetime(2026, 11, 4, 8, tzinfo=UTC)

    def failing(*args: Any) -> str:
        raise OSError("smtp down")

    def ok(_settings: Settings, _report: Any, start: date, _end: date) -> str:
        sent.append(start)
        return "subject"

    with pytest.raises(OSError):
        run_report(settings, "daily", fired, send=failing)
    assert run_report(settings, "daily", fired, send=ok) == "subject"
    assert run_report(settings, "daily", fired + timedelta(minutes=5), send=ok) is None
    assert sent == [date(2026, 11, 3)]
    assert SentLedger(settings.scheduler_db).sent() == [("daily", "2026-11-03", "sent")]


def _fired(scheduler: Any, settings: Settings) -> bool:
    """The forced run happened: it was rescheduled to the next 08:00 and the ledger has it."""
    job = scheduler.get_job("report:daily-finops")
    return bool(SentLedger(settings.scheduler_db).sent()) and job.next_run_time > datetime.now(UTC)


def _wait(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.1)


@pytest.mark.points(4)
def test_scheduled_job_fires_once_across_restarts(recent_store_lazy: Lazy[Path], tmp_path: Path,
                                                  smtp_server: SmtpServer) -> None:
    recent_store = recent_store_lazy.get()
    config = tmp_path / "costwatch.yaml"
    config.write_text(yaml.safe_dump({
        "store": str(recent_store), "scheduler_db": str(tmp_path / "jobs.sqlite"),
        "smtp": {"port": smtp_server.port},
        "reports": [{"name": "daily-finops", "cron": "0 8 * * *", "period": "daily",
                     "email_to": ["finops@example.com"]}],
    }))
    settings = Settings.load(config)
    for _restart in range(2):
        scheduler = build_scheduler(settings, config, blocking=False)
        scheduler.start()
        job = scheduler.get_job("report:daily-finops")
        assert job is not None and job.trigger.fields[5].expressions[0].first == 8
        job.modify(next_run_time=datetime.now(UTC))  # fire now instead of at 08:00
        _wait(functools.partial(_fired, scheduler, settings))
        time.sleep(0.5)
        scheduler.shutdown(wait=True)
    assert len(smtp_server.wait_for(1)) == 1
    time.sleep(0.5)
    assert len(smtp_server.messages) == 1  # the restart fired again; the ledger said "sent"
    [(name, period, state)] = SentLedger(settings.scheduler_db).sent()
    assert (name, state) == ("daily-finops", "sent")
    assert period == str(datetime.now(UTC).date() - timedelta(days=1))
