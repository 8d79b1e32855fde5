"""RTO/RPO gauges pushed to the shared Pushgateway; alert rules tested with promtool;
the pg_receivewal streaming archiver."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiinfra_shared.procs.services import Pushgateway
from aiinfra_shared.testing import prom

from drkit.adapters import postgres as pg
from drkit.adapters.pushgateway import push
from drkit.archiver import drain, start_receivewal
from drkit.lsn import is_segment_name
from drkit.monitoring import backup_gauges, drill_gauges
from drkit.report import DrillResult
from tests.integration.conftest import Archived

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.points(4)
def test_gauges_reach_the_pushgateway(pushgateway: Pushgateway,
                                      archived_factory: Callable[..., Archived]) -> None:
    archived = archived_factory("async")
    archived.backup()
    repo = archived.repository
    gauges = backup_gauges(repo.load_catalog(), repo.last_archived_at(),
                           {"standby1": 4096}, 12.5)
    result = DrillResult("kill-primary", datetime.now(UTC), 30, 0, rto_s=2.5, rpo_s=0.0)
    push(pushgateway.url, "drkit", {**gauges, **drill_gauges([result])})
    text = pushgateway.metrics_text()
    lines = [ln for ln in text.splitlines() if ln.startswith("drkit_")]
    assert any(ln.startswith("drkit_backups_total{") and ln.endswith(" 1") for ln in lines)
    assert any('standby="standby1"' in ln and ln.endswith(" 4096") for ln in lines)
    assert any('scenario="kill-primary"' in ln and ln.startswith("drkit_drill_rto_seconds")
               and ln.endswith(" 2.5") for ln in lines)
    age = next(ln for ln in lines if ln.startswith("drkit_last_backup_age_seconds"))
    assert 0 <= float(age.split()[-1]) < 120


@pytest.mark.points(4)
def test_alert_rules_pass_promtool() -> None:
    prom.check_rules("alerts.yml", cwd=DEPLOY)
    prom.rule_tests_pass("alerts_test.yml", cwd=DEPLOY)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_backup_age_gauge_ages(archived_factory: Callable[..., Archived]) -> None:
    archived = archived_factory("async")
    archived.backup()
    catalog = archived.repository.load_catalog()
    later = catalog.backups[0].finished_at + timedelta(hours=30)
    gauges = backup_gauges(catalog, None, {}, None, now=later)
    assert gauges["drkit_last_backup_age_seconds"][2] == pytest.approx(30 * 3600, abs=1)
    assert "drkit_wal_archive_lag_seconds" not in gauges


@pytest.mark.points(5)
def test_pg_receivewal_streams_segments_that_drain_to_s3(
        archived_factory: Callable[..., Archived], postgres_factory: object) -> None:
    archived = archived_factory("async")
    stream_dir = Path(postgres_factory.directory("drkit-stream-"))  # type: ignore[attr-defined]
    process = start_receivewal(stream_dir, archived.primary.host, archived.primary.port,
                               "drkit_stream", stream_dir / "receivewal.log")
    try:
        archived.primary.psql("CREATE TABLE s (i int); "
                              "INSERT INTO s SELECT generate_series(1, 1000)")
        finished: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not finished:
            pg.switch_wal(archived.primary.dsn)  # closes the segment pg_receivewal is writing
            time.sleep(0.5)
            finished = sorted(p.name for p in stream_dir.iterdir() if is_segment_name(p.name))
        assert finished, process.log_tail()
        segment = finished[-1]
        result = drain(stream_dir, archived.repository, [archived.keys.public])
        assert segment in result.uploaded
        assert not any(name.endswith(".partial") for name in result.uploaded)
        assert archived.repository.store.exists(f"wal/{segment}.zst.age")
        assert not (stream_dir / segment).exists()  # drained
    finally:
        process.stop()
    slots = pg.scalar(archived.primary.dsn, "SELECT string_agg(slot_name, ',') FROM "
                      "pg_replication_slots")
    assert "drkit_stream" in slots
