from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drkit.demo import builtin_names, builtin_scenario
from drkit.errors import ConfigurationError
from drkit.monitoring import backup_gauges
from drkit.report import DrillResult, results_table, rpo_seconds
from drkit.scenarios import parse_scenario
from tests.unit.helpers import catalog, entry

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.mark.points(2)
def test_builtin_scenarios_parse() -> None:
    names = builtin_names()
    assert {"kill-primary", "drop-table", "corrupted-backup", "missing-wal",
            "region-outage"} <= set(names)
    for name in names:
        assert builtin_scenario(name).name == name


@pytest.mark.points(2)
@pytest.mark.parametrize(("text", "words"), [
    ("name: x\nsteps:\n  - explode: {}\n", "step 1: unknown step 'explode'"),
    ("name: x\nsteps: []\n", "'steps' must be a non-empty list"),
    ("name: x\ntargets: {rto_s: -1}\nsteps: [verify]\n", "targets.rto_s"),
    ("name: x\nsteps:\n  - write: 3\n", "arguments must be a mapping"),
    ("name: [\n", "invalid YAML"),
    ("name: x\nsurprise: 1\nsteps: [verify]\n", "surprise"),
])
def test_bad_scenarios_are_one_line_errors(text: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_scenario(text, "s.yaml")
    message = str(info.value)
    assert words in message and message.startswith("s.yaml") and "\n" not in message


@pytest.mark.points(3)
def test_rpo_counts_only_acknowledged_writes_before_the_incident() -> None:
    acked = [(i, T0 + timedelta(seconds=i)) for i in range(1, 11)]
    assert rpo_seconds(T0 + timedelta(seconds=20), acked, set(range(1, 11))) == (0.0, 0)
    # ids 9 and 10 lost; newest kept is 8 at t+8; incident at t+20 -> 12 s
    assert rpo_seconds(T0 + timedelta(seconds=20), acked, set(range(1, 9))) == (12.0, 2)
    # write 10 was acknowledged after the incident: it was never promised
    assert rpo_seconds(T0 + timedelta(seconds=9.5), acked, set(range(1, 10))) == (0.0, 0)


@pytest.mark.points(2)
@pytest.mark.hidden
def test_rpo_when_everything_was_lost() -> None:
    acked = [(1, T0), (2, T0 + timedelta(seconds=4))]
    assert rpo_seconds(T0 + timedelta(seconds=10), acked, set()) == (10.0, 2)


@pytest.mark.points(2)
def test_results_table_marks_missed_targets() -> None:
    ok = DrillResult("kill-primary", T0, 30, 0, detection_s=0.4, rto_s=1.2, rpo_s=0.0)
    missed = DrillResult("drop-table", T0, 1, 0, rto_s=5.0, rpo_s=2.0, rows_lost=3,
                         rows_acknowledged=10)
    table = results_table([ok, missed])
    assert "| kill-primary | 0.40 | 1.20 ok | 30 | 0.00 ok | 0 | 0/0 | pass |" in table
    assert "5.00 MISSED" in table and "3/10" in table and "FAIL" in table
    assert ok.passed and not missed.passed


@pytest.mark.points(2)
def test_backup_gauges() -> None:
    cat = catalog(entry(0), entry(1))
    now = cat.backups[-1].finished_at + timedelta(seconds=90)
    gauges = backup_gauges(cat, now - timedelta(seconds=30), {"standby1": 512}, 7.0, now=now)
    assert gauges["drkit_last_backup_age_seconds"][2] == 90
    assert gauges["drkit_wal_archive_lag_seconds"][2] == 30
    assert gauges["drkit_backups_total"][2] == 2
    assert gauges["drkit_replication_lag_bytes{standby1}"][1:] == ({"standby": "standby1"}, 512)
    assert gauges["drkit_artifact_replication_lag_seconds"][2] == 7.0
