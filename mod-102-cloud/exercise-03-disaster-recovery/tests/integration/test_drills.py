"""DR drills from the shipped YAML scenarios against a real stack."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drkit.demo import builtin_scenario
from drkit.drills import Stack, run_drill
from drkit.report import results_markdown
from drkit.scenarios import parse_scenario

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.points(6)
def test_drop_table_drill_recovers_by_pitr(stack_factory: Callable[..., Stack]) -> None:
    result = run_drill(stack_factory("async", standby=False), builtin_scenario("drop-table"))
    assert result.error is None, result.error
    assert result.rows_lost == 0 and result.rows_acknowledged == 40
    assert result.rpo_s == 0.0 and result.rto_s is not None and result.rto_s > 0
    assert [s.action for s in result.steps][-2:] == ["pitr", "verify"]
    assert "# DR drill results" in results_markdown([result])


@pytest.mark.points(6)
def test_corrupted_backup_is_detected_and_previous_one_used(
        stack_factory: Callable[..., Stack]) -> None:
    result = run_drill(stack_factory("async", standby=False), builtin_scenario("corrupted-backup"))
    assert result.error is None, result.error
    assert any("checksum mismatch" in note for note in result.notes), result.notes
    assert result.rows_lost == 0 and result.passed


@pytest.mark.points(4)
@pytest.mark.hidden
def test_deleted_backup_object_falls_back_too(stack_factory: Callable[..., Stack]) -> None:
    text = Path(builtin_scenario.__code__.co_filename).parent.joinpath(
        "scenarios", "corrupted-backup.yaml").read_text().replace("mode: flip", "mode: delete")
    result = run_drill(stack_factory("async", standby=False), parse_scenario(text))
    assert result.error is None, result.error
    assert any("not found" in note for note in result.notes), result.notes


@pytest.mark.points(5)
def test_missing_wal_segment_is_reported_as_a_gap(stack_factory: Callable[..., Stack]) -> None:
    result = run_drill(stack_factory("async", standby=False), builtin_scenario("missing-wal"))
    assert result.error is None, result.error
    deleted = next(s.detail for s in result.steps if s.action == "delete_wal").split()[-1]
    assert any(deleted in note for note in result.notes if note.startswith("WAL gap"))


@pytest.mark.points(6)
def test_region_outage_restores_from_the_dr_region(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory("async", standby=False)
    result = run_drill(stack, builtin_scenario("region-outage"))
    assert result.error is None, result.error
    assert result.rows_lost == 0 and result.rto_s is not None
    with pytest.raises(Exception, match="unreachable"):
        stack.repository.load_catalog()  # the primary region really is gone


@pytest.mark.points(5)
@pytest.mark.hidden
def test_kill_primary_drill_measures_rto_on_the_new_primary(
        stack_factory: Callable[..., Stack]) -> None:
    result = run_drill(stack_factory("sync"), builtin_scenario("kill-primary"))
    assert result.error is None, result.error
    assert result.rows_lost == 0 and result.rpo_s == 0.0
    assert result.detection_s is not None and result.rto_s is not None
    assert 0 < result.detection_s < result.rto_s < 30
