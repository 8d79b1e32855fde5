"""The shared benchmark helper: statistics, A-B-B-A, results schema, README rewrite."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from aiinfra_shared.bench import (
    README_END,
    README_START,
    BenchError,
    compare_abba,
    machine_info,
    measure,
    median_ci,
    replace_readme_table,
    results_document,
    summarize,
    update_readme,
    validate_document,
    write_results,
)


def test_median_ci_uses_order_statistics_with_honest_coverage() -> None:
    # n=5: no interval reaches 95%, so [min, max] with its true coverage (1 - 2/32)
    low, high, coverage = median_ci([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (low, high) == (1.0, 5.0) and coverage == pytest.approx(0.9375)
    # n=20: the classic 95% interval of the median is [x(6), x(15)]
    samples = [float(i) for i in range(1, 21)]
    low, high, coverage = median_ci(samples)
    assert (low, high) == (6.0, 15.0) and coverage == pytest.approx(0.9586, abs=1e-4)


def test_median_ci_handles_thousands_of_samples() -> None:
    samples = [float(i % 97) for i in range(5000)]
    low, high, coverage = median_ci(samples)
    assert low <= sorted(samples)[2500] <= high and 0.95 <= coverage < 0.96


def test_summarize_is_robust_to_one_slow_outlier() -> None:
    stats = summarize([1.0, 1.1, 0.9, 1.0, 1.05, 1.0, 0.95, 1.02, 30.0])
    assert stats.median == 1.0 and stats.n == 9
    assert stats.ci_high < 30.0
    assert stats.format(".2f").startswith("1.00 s (")
    with pytest.raises(BenchError):
        summarize([])


def test_measure_runs_warmup_then_times_each_run() -> None:
    calls: list[int] = []
    ticks = itertools.count(step=0.5)
    stats = measure(lambda: calls.append(1), runs=4, warmup=2, clock=lambda: next(ticks))
    assert len(calls) == 6 and stats.samples == (0.5, 0.5, 0.5, 0.5)


def test_abba_interleaves_and_reports_the_speedup() -> None:
    order: list[str] = []

    def a() -> float:
        order.append("A")
        return 2.0

    def b() -> float:
        order.append("B")
        return 0.5

    result = compare_abba(a, b, rounds=2)
    assert "".join(order) == "ABBAABBA"
    assert result.speedup.median == 4.0 and result.speedup.unit == "x"
    assert result.speedup.format(".1f").startswith("4.0x (")
    assert json.dumps(result.as_dict())


def test_results_document_round_trip_and_validation(tmp_path: Path) -> None:
    doc = results_document("101-04", {"create": summarize([1.0, 2.0, 3.0]).as_dict()})
    assert validate_document(doc) == []
    assert {"cpus", "python"} <= machine_info().keys()
    path = tmp_path / "results.json"
    write_results(path, doc)
    assert json.loads(path.read_text())["benchmarks"]["create"]["median"] == 2.0
    with pytest.raises(BenchError, match="benchmarks"):
        write_results(path, {**doc, "benchmarks": {}})
    assert json.loads(path.read_text())["benchmarks"]  # the bad write left the file alone


@pytest.mark.parametrize(("start", "end"), [(README_START, README_END),
                                            ("<!-- BENCH:START -->", "<!-- BENCH:END -->"),
                                            ("<!-- bench:begin -->", "<!-- bench:end -->")])
def test_readme_table_is_replaced_between_any_marker_spelling(start: str, end: str) -> None:
    text = f"# X\n\n## Benchmarks\n{start}\nold table\n{end}\n\n## Next\n"
    new = replace_readme_table(text, "| a |\n|---|\n| 1 |")
    assert new == (f"# X\n\n## Benchmarks\n{README_START}\n| a |\n|---|\n| 1 |\n{README_END}"
                   "\n\n## Next\n")


def test_readme_without_markers_is_an_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    with pytest.raises(BenchError, match="bench:start"):
        update_readme(readme, "| a |")
    assert readme.read_text() == "# no markers\n"
