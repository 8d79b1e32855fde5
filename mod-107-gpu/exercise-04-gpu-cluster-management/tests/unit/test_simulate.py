"""Kueue's rules on hand-worked traces (cohort of llm and vision on 8 H100s)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpufleet import fleet as fleetfile
from gpufleet import simulate
from gpufleet.errors import TraceError
from tests.helpers import EXAMPLES, run_cli, write_fleet

FLEET = {
    "pools": [{"name": "h100", "model": "H100-80GB", "gpus": 8}],
    "teams": [
        {"name": "llm", "namespace": "team-llm", "quota": {"h100": 4}, "cohort": "c",
         "priority": 100},
        {"name": "vision", "namespace": "team-vision", "quota": {"h100": 4}, "cohort": "c",
         "borrowingLimit": 4, "priority": 100},
    ],
    "prices": {"H100-80GB": 2.5},
}


def jobs(rows: list[tuple[str, str, int, int, int]], priority: dict[str, int] | None = None
         ) -> list[simulate.Job]:
    return [simulate.Job(i, team, s, d, g, "h100", (priority or {}).get(i, 100))
            for i, team, s, d, g in rows]


@pytest.mark.points(4)
def test_borrowing_then_reclaim_matches_the_hand_worked_trace() -> None:
    """b1 (vision, 6 GPUs) borrows 2 of llm's; at 2 llm's a1 (4, within nominal) reclaims:
    b1 is evicted; b2 (vision, 2) fits at 3; at 7 a1 and b2 end and b1 restarts until 17.
    GPU-minutes 12 + 60 + 20 + 8 = 100 over 17 min x 8 GPUs."""
    fleet = fleetfile.parse(FLEET)
    result = simulate.simulate(fleet, jobs([("b1", "vision", 0, 10, 6), ("a1", "llm", 2, 5, 4),
                                            ("b2", "vision", 3, 4, 2)]))
    b1, a1, b2 = (result.jobs[k] for k in ("b1", "a1", "b2"))
    assert b1.admissions == [0, 7] and b1.preempted == 1 and b1.waited == 5
    assert b1.finished == 17
    assert (a1.admissions, a1.waited, a1.finished) == ([2], 0, 7)
    assert (b2.admissions, b2.finished) == ([3], 7)
    assert result.makespan == 17
    assert result.teams["vision"].gpu_minutes == 80
    assert result.teams["llm"].gpu_minutes == 20
    assert result.teams["vision"].preemptions == 1
    assert result.fleet_utilisation == pytest.approx(100 / 136)


@pytest.mark.points(2)
def test_borrowing_limit_caps_a_team() -> None:
    data = {**FLEET, "teams": [FLEET["teams"][0], {**FLEET["teams"][1], "borrowingLimit": 1}]}
    fleet = fleetfile.parse(data)
    result = simulate.simulate(fleet, jobs([("b1", "vision", 0, 3, 5), ("b2", "vision", 0, 3, 5)]))
    assert result.jobs["b1"].admissions == [0]  # 5 <= 4 + 1
    assert result.jobs["b2"].admissions == [3]  # 10 > 5 even with llm's quota free
    with pytest.raises(TraceError, match="more than queue vision can ever admit"):
        simulate.simulate(fleet, jobs([("b3", "vision", 0, 3, 6)]))


@pytest.mark.points(2)
@pytest.mark.hidden
def test_lending_limit_keeps_quota_at_home_and_priority_preempts_within_queue() -> None:
    data = {**FLEET, "teams": [{**FLEET["teams"][0], "lendingLimit": 1}, FLEET["teams"][1]]}
    # vision may borrow only what llm lends: 4 + 1 = 5 GPUs at most
    small = simulate.simulate(fleetfile.parse(data), jobs([("b1", "vision", 0, 4, 5)]))
    assert small.jobs["b1"].admissions == [0]
    urgent = simulate.simulate(fleetfile.parse(FLEET), jobs(
        [("low", "llm", 0, 10, 4), ("high", "llm", 1, 2, 4)], {"low": 10, "high": 500}))
    # llm's own lower-priority job is preempted; vision's quota is lendable so both could
    # also fit by borrowing: high borrows first (fits without preemption)
    assert urgent.jobs["high"].admissions == [1]
    alone = {**FLEET, "teams": [{**FLEET["teams"][0], "cohort": None}]}
    solo = simulate.simulate(fleetfile.parse(alone), jobs(
        [("low", "llm", 0, 10, 4), ("high", "llm", 1, 2, 4)], {"low": 10, "high": 500}))
    assert solo.jobs["high"].admissions == [1]
    assert solo.jobs["low"].admissions == [0, 3] and solo.jobs["low"].preempted == 1
    assert solo.jobs["low"].finished == 13


@pytest.mark.points(2)
def test_simulate_command_and_bad_trace(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet.yaml", FLEET)
    result = run_cli("simulate", "--fleet", str(fleet), "--trace",
                     str(EXAMPLES / "traces" / "cohort.csv"), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["makespan_min"] == 17
    assert payload["jobs"]["b1"]["admissions"] == [0, 7]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,team,submit_min,duration_min,gpus,flavor\nx,nobody,0,1,1,h100\n")
    failed = run_cli("simulate", "--fleet", str(fleet), "--trace", str(bad))
    assert failed.returncode == 3 and ":2: bad row" in failed.stderr
