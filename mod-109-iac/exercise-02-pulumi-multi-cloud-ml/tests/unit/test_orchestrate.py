"""Multi-stack orchestration with fake stacks: order by references, parallel levels,
reverse destroy, failures skip dependents, cycles are errors."""

from __future__ import annotations

import threading

import pytest

from pulumiml.errors import CycleError, OperationError
from pulumiml.orchestrate import dependents, find_cycle, levels, run_ordered

GRAPH = {"net": [], "data": ["net"], "ml": ["net", "data"], "serving": ["net", "ml"],
         "other-net": [], "other-data": ["other-net"]}


@pytest.mark.points(3)
def test_levels_put_every_stack_after_what_it_references():
    order = levels(GRAPH)
    assert order == [["net", "other-net"], ["data", "other-data"], ["ml"], ["serving"]]
    position = {n: i for i, level in enumerate(order) for n in level}
    assert all(position[up] < position[n] for n, ups in GRAPH.items() for up in ups)
    assert levels({"a": ["outside"], "b": ["a"]}) == [["a"], ["b"]]


@pytest.mark.points(3)
def test_a_reference_cycle_is_an_error_naming_the_cycle():
    graph = {"a": ["c"], "b": ["a"], "c": ["b"], "d": []}
    assert find_cycle(graph) in (["a", "c", "b", "a"], ["b", "a", "c", "b"], ["c", "b", "a", "c"])
    with pytest.raises(CycleError, match=r"cycle: .* -> .* -> .* -> ") as caught:
        levels(graph)
    assert caught.value.exit_code == 6
    assert find_cycle({"x": ["x"]}) == ["x", "x"]


@pytest.mark.points(3)
def test_independent_stacks_run_in_parallel_and_dependents_wait():
    barrier = threading.Barrier(2, timeout=10)
    finished: list[str] = []

    def act(name: str) -> str:
        if name in ("net", "other-net"):
            barrier.wait()  # both roots must be running at the same time, or this times out
        for up in GRAPH[name]:
            assert up in finished, f"{name} started before {up} finished"
        finished.append(name)
        return name

    report = run_ordered(GRAPH, act, parallelism=4)
    assert sorted(finished) == sorted(GRAPH) and report.failed == []
    assert [r.status for r in report.runs] == ["ok"] * len(GRAPH)


@pytest.mark.points(3)
def test_destroy_runs_dependents_first():
    done: list[str] = []
    lock = threading.Lock()

    def act(name: str) -> None:
        with lock:
            assert all(n in done for n, ups in GRAPH.items() if name in ups), name
            done.append(name)

    report = run_ordered(GRAPH, act, parallelism=3, reverse=True)
    assert report.order[0] == ["other-data", "serving"] and report.order[-1] == ["net"]
    assert "other-net" in report.order[1]
    assert sorted(done) == sorted(GRAPH)


@pytest.mark.points(3)
def test_a_failure_skips_what_waits_for_it_and_the_rest_still_runs():
    def act(name: str) -> None:
        if name == "data":
            raise OperationError("data: provider said no")

    report = run_ordered(GRAPH, act, parallelism=2)
    status = {r.stack: r.status for r in report.runs}
    assert status == {"net": "ok", "other-net": "ok", "data": "failed", "other-data": "ok",
                      "ml": "skipped", "serving": "skipped"}
    failed = next(r for r in report.runs if r.stack == "data")
    assert failed.error == "data: provider said no" and failed.exit_code == 1
    assert "waits for data" in next(r for r in report.runs if r.stack == "ml").reason
    assert report.as_dict()["failed"] == ["data"]


@pytest.mark.points(2)
@pytest.mark.hidden
def test_dependents_are_transitive_and_in_deploy_order():
    assert dependents(GRAPH, ["net"]) == ["data", "ml", "serving"]
    assert dependents(GRAPH, ["ml"]) == ["serving"]
    assert dependents(GRAPH, ["serving"]) == []


@pytest.mark.points(1)
@pytest.mark.hidden
def test_parallelism_one_runs_one_stack_at_a_time():
    active, peak = [0], [0]
    lock = threading.Lock()

    def act(name: str) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        with lock:
            active[0] -= 1

    run_ordered(GRAPH, act, parallelism=1)
    assert peak[0] == 1
