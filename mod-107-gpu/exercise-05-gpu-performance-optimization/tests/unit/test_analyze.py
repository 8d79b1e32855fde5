"""Attribution: traces load in HTA, categories add up, rules rank the real bottleneck."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gpuopt.analyze import CATEGORIES, analyze_run
from gpuopt.traces import load_run
from tests.helpers import invoke, read_json

WORKLOADS = ("cnn", "llama", "databound")


@pytest.mark.points(3)
@pytest.mark.parametrize("workload", WORKLOADS)
def test_each_workload_trace_loads_in_hta(workload: str, profiled: Callable[..., Path]) -> None:
    run = profiled(workload)
    loaded = load_run(run)
    assert loaded.analyzer.t.is_parsed  # HTA's TraceAnalysis parsed it
    names = set(loaded.events["name"])
    assert {"gpuopt/step", "gpuopt/forward", "gpuopt/backward", "gpuopt/optimizer"} <= names
    assert (loaded.events["cat"] == "cpu_op").sum() > 50
    assert "Self CPU" in (run / "key_averages.txt").read_text()
    timeline = read_json(run / "memory_timeline.json")
    assert timeline["peak_bytes_by_category"]["parameter"] > 0
    assert timeline["peak_bytes_by_category"]["activation"] > 0


@pytest.mark.points(4)
@pytest.mark.parametrize("workload", WORKLOADS)
def test_categories_sum_to_the_measured_step_time(workload: str,
                                                  profiled: Callable[..., Path]) -> None:
    loaded = load_run(profiled(workload))
    analysis = analyze_run(loaded)
    measured = {s["step"]: s["total_s"] for s in loaded.run["steps"]}
    assert len(analysis.steps) == len(loaded.run["active_steps"]) == 2
    for split, step in zip(analysis.steps, loaded.run["active_steps"], strict=True):
        total_s = sum(split.categories.values()) / 1e6
        assert total_s == pytest.approx(measured[step], rel=0.05)
        assert set(split.categories) == set(CATEGORIES)
        assert split.categories["forward"] > 0 and split.categories["backward"] > 0
    assert sum(analysis.shares.values()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.points(5)
def test_databound_ranks_data_first_and_workers_lower_the_data_share(
        profiled: Callable[..., Path]) -> None:
    analysis = analyze_run(load_run(profiled("databound")))
    assert max(analysis.shares, key=lambda c: analysis.shares[c]) == "data"
    first = analysis.recommendations[0]
    assert first.recipe.startswith("dataloader:") and first.kind == "speed"
    assert first.expected_speedup > 1.5
    after = analyze_run(load_run(profiled("databound", first.recipe)))
    assert after.shares["data"] < 0.5 * analysis.shares["data"]
    assert not any(r.recipe.startswith("dataloader") for r in after.recommendations)


@pytest.mark.points(2)
def test_compute_bound_cnn_gets_compute_recommendations(profiled: Callable[..., Path]) -> None:
    analysis = analyze_run(load_run(profiled("cnn")))
    assert analysis.shares["data"] < 0.1
    recipes = [r.recipe for r in analysis.recommendations]
    assert not any(r.startswith("dataloader") for r in recipes)
    assert "checkpoint" in recipes  # activations dominate its memory
    speed = [r for r in analysis.recommendations if r.kind == "speed"]
    assert speed == sorted(speed, key=lambda r: r.expected_speedup, reverse=True)


@pytest.mark.points(2)
def test_flops_are_counted_against_a_measured_peak(profiled: Callable[..., Path]) -> None:
    run = profiled("cnn")
    analysis = analyze_run(load_run(run))
    # forward FLOPs of the CNN's convolutions at batch 32: the profiler's count must cover
    # at least the stem conv (2 * 32 * 16*3*3*3 * 32*32)
    assert analysis.flops_per_step > 2 * 32 * 16 * 27 * 1024
    assert 0 < analysis.achieved_flops < analysis.peak_flops["float32"] * 1.5
    assert analysis.mfu is not None and 0 < analysis.mfu < 1.5
    result = invoke("analyze", str(run), "--json")
    assert result.exit_code == 0
    assert (run / "analysis.json").is_file()


@pytest.mark.points(3)
@pytest.mark.hidden
def test_diff_compares_runs_per_category_and_op(profiled: Callable[..., Path]) -> None:
    import json

    base, workers = profiled("databound"), profiled("databound", "dataloader:4")
    result = invoke("diff", str(base), str(workers), "--json")
    assert result.exit_code == 0, result.output
    diff = json.loads(result.output)
    by_category = {c["category"]: c for c in diff["categories"]}
    assert by_category["data"]["delta_ms"] < 0
    assert diff["ops"] and all(set(o) >= {"op", "a_us", "b_us", "status"} for o in diff["ops"])
    same = invoke("diff", str(base), str(base), "--json")
    assert all(abs(c["delta_ms"]) < 1e-9 for c in json.loads(same.output)["categories"])
