"""Results files (JSON/CSV), the HTML/markdown report and the compare verdicts."""

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from mlbench.compare import compare_files
from mlbench.report import html_report, markdown_summary
from mlbench.results import ResultsError, load, make_file, save, to_csv
from mlbench.schema import ResultsFile

Factory = Callable[..., ResultsFile]


@pytest.mark.points(2)
def test_save_and_load_round_trip(tmp_path: Path, results_factory: Factory) -> None:
    doc = results_factory()
    jpath, cpath = save(doc, tmp_path / "out")
    back = load(jpath)
    assert back == doc
    rows = list(csv.DictReader(cpath.open()))
    assert len(rows) == len(doc.results)
    ok = [r for r in rows if r["status"] == "ok"]
    first = doc.results[0]
    assert first.latency is not None
    assert float(ok[0]["median_ms"]) == pytest.approx(first.latency.median * 1e3)
    assert ok[0]["framework_version"]  # fingerprint travels into the CSV
    assert next(r for r in rows if r["status"] == "skipped")["reason"] == "jax is not installed"
    assert not list((tmp_path / "out").glob("*.tmp*"))


@pytest.mark.points(1)
@pytest.mark.parametrize(("payload", "message"), [
    ("{not json", "not a JSON results file"),
    ('{"results": []}', "no schema_version"),
    ('{"schema_version": 99, "results": []}', "schema version 99 is not supported"),
    ('{"schema_version": 1, "created": "x", "suite": "s", "results": [{"key": 1}]}',
     "invalid results file at results.0"),
])
def test_load_rejects_bad_files_in_one_line(tmp_path: Path, payload: str, message: str) -> None:
    p = tmp_path / "r.json"
    p.write_text(payload)
    with pytest.raises(ResultsError, match=message) as info:
        load(p)
    assert "\n" not in str(info.value)


@pytest.mark.points(3)
def test_html_report_is_self_contained_with_the_charts(results_factory: Factory) -> None:
    page = html_report(results_factory())
    assert "<script src=" not in page  # no CDN: plotly.js is embedded
    assert "Plotly.newPlot" in page
    assert len(page) > 1_000_000  # the embedded library itself (~4.6 MB)
    for i in range(6):
        assert f'id="mlbench-chart-{i}"' in page
    for title in ("Train throughput", "Infer throughput", "step latency distribution",
                  "MLPerf-style scenarios", "Peak resident memory"):
        assert title in page
    assert "jax is not installed" in page


@pytest.mark.points(3)
def test_markdown_summary_tables(results_factory: Factory) -> None:
    md = markdown_summary(results_factory())
    assert "| torch/cnn/infer/bs8/fp32/t1/cpu/jit |" in md
    assert "## Fastest framework per workload" in md
    assert "## Server scenario" in md
    assert "skipped**: jax is not installed" in md


@pytest.mark.points(4)
def test_compare_flags_30_percent_and_not_1_percent(results_factory: Factory) -> None:
    base = results_factory(seed=0)
    slow = compare_files(base, results_factory(scale=1.30, seed=1))
    assert len(slow.regressions) == 13  # every ok job
    tiny = compare_files(base, results_factory(scale=1.01, seed=1))
    assert tiny.regressions == []
    verdicts = {r.verdict for r in tiny.rows}
    assert "not-ok" in verdicts  # the skipped job is reported, not compared


@pytest.mark.hidden
@pytest.mark.points(2)
def test_compare_reports_missing_jobs(results_factory: Factory) -> None:
    base = results_factory()
    fewer = base.model_copy(update={"results": base.results[1:]})
    rep = compare_files(base, fewer)
    assert [r.verdict for r in rep.rows if r.key == base.results[0].key] == ["missing-new"]


@pytest.mark.hidden
@pytest.mark.points(1)
def test_csv_has_header_even_when_empty() -> None:
    text = to_csv([])
    assert next(csv.reader(io.StringIO(text)))[0] == "key"


@pytest.mark.points(3)
def test_a_winner_is_named_only_when_the_intervals_separate() -> None:
    from mlbench.report import NO_DIFFERENCE, winner
    from tests.conftest import synthetic_result

    torch = synthetic_result("torch", mean_s=0.0100, seed=1)
    close = synthetic_result("jax", mean_s=0.0101, seed=2)  # 1% apart, 2% noise
    far = synthetic_result("tensorflow", mean_s=0.0200, seed=3)
    _, _, verdict = winner([close, torch])
    assert verdict.startswith(NO_DIFFERENCE)
    best, second, verdict = winner([far, torch])
    assert best.job.framework == "torch" and second is not None
    assert verdict.startswith("torch")
    md = markdown_summary(make_file([torch, close, far], "x"))
    # torch leads jax by 1%, inside the noise: the summary names no winner for it.
    assert f"| cnn infer bs8 fp32 | {NO_DIFFERENCE} (intervals overlap) | torch (" in md
    # With repeated runs the run-to-run spread decides: overlapping runs, no winner.
    noisy_a = torch.model_copy(update={"run_medians_s": [0.010, 0.013, 0.008, 0.011, 0.009]})
    noisy_b = far.model_copy(update={"throughput": 0.9 * (torch.throughput or 0),
                                     "run_medians_s": [0.011, 0.009, 0.012, 0.010, 0.014]})
    assert winner([noisy_a, noisy_b])[2].startswith(NO_DIFFERENCE)
