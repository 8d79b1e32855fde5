"""`make bench` reports the instrumentation cost against an uninstrumented handler measured
in the same run (a ratio, so machine load cancels out), not only as an absolute time.

Runs benchmarks/run.py on tiny knobs in a copy of the exercise layout (it writes its
results.json and README table next to itself), never touching the committed files.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = {"BENCH_RUNS": "2", "BENCH_CALLS": "20", "BENCH_REQUESTS": "20",
        "BENCH_PREDICTIONS": "1000", "BENCH_WINDOW_RUNS": "1"}


@pytest.mark.points(1)
def test_bench_reports_instrumentation_as_a_ratio_to_an_uninstrumented_handler(
        tmp_path: Path) -> None:
    (tmp_path / "benchmarks").mkdir()
    shutil.copy(ROOT / "benchmarks" / "run.py", tmp_path / "benchmarks" / "run.py")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    result = subprocess.run([sys.executable, str(tmp_path / "benchmarks" / "run.py")],
                            env={**os.environ, **TINY}, capture_output=True, text=True,
                            check=False, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    benchmarks = json.loads((tmp_path / "benchmarks" / "results.json").read_text())["benchmarks"]
    overhead = benchmarks["instrumentation_overhead_per_request"]
    assert overhead["goal"] == "<= 50 us" and isinstance(overhead["met"], bool)
    assert "uninstrumented" in overhead["method"] and "A-B-B-A" in overhead["method"]
    ratio = benchmarks["instrumented_vs_uninstrumented_handler"]
    assert ratio["unit"] == "x" and ratio["median"] > 0 and ratio["n"] == 2
    table = (tmp_path / "README.md").read_text()
    assert "instrumented / uninstrumented handler, same run" in table
