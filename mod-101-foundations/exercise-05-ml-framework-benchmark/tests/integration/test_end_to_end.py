"""All three frameworks for real, in worker subprocesses, through the `mlbench` console script.

One `mlbench run` per session (framework imports cost seconds) feeds most assertions; tiny
models and few iterations keep it to about a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlbench.models import PRESETS, param_count
from mlbench.results import load
from mlbench.schema import ResultsFile

pytestmark = pytest.mark.integration

EXE = str(Path(sys.executable).parent / "mlbench")


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, check=False,
                          env=env, timeout=timeout)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ResultsFile]:
    out = tmp_path_factory.mktemp("e2e")
    proc = run_cli("run", "--size", "tiny", "--frameworks", "torch,tensorflow,jax",
                   "--models", "cnn,transformer,lstm", "--batch-sizes", "4",
                   "--mode", "train,infer", "--iterations", "5", "--warmup", "2",
                   "--threads", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, load(out / "results.json")


@pytest.mark.points(3)
def test_every_framework_and_model_ran(e2e: tuple[Path, ResultsFile]) -> None:
    _, doc = e2e
    assert len(doc.results) == 3 * 3 * 2
    bad = [(r.key, r.reason) for r in doc.results if r.status != "ok"]
    assert bad == []


@pytest.mark.points(2)
@pytest.mark.parametrize("model", ["cnn", "transformer", "lstm"])
def test_parameter_counts_equal_across_frameworks(e2e: tuple[Path, ResultsFile],
                                                  model: str) -> None:
    _, doc = e2e
    counts = {r.job.framework: r.param_count for r in doc.results if r.job.model == model}
    assert set(counts) == {"torch", "tensorflow", "jax"}
    expected = param_count(PRESETS["tiny"][model])
    for fw, n in counts.items():  # the issue asks for 1%; the construction gives exact
        assert n is not None and abs(n - expected) / expected < 0.01, (fw, n, expected)
        assert n == expected


# The default suite's exact trainable parameter counts, as the README's "Models" table states.
DEFAULT_COUNTS = {"cnn": 11_176_842, "transformer": 5_738_506, "lstm": 3_613_194}


@pytest.fixture(scope="session")
def default_models(tmp_path_factory: pytest.TempPathFactory) -> ResultsFile:
    """The default (realistic) models built in every framework, one inference at batch 1."""
    out = tmp_path_factory.mktemp("default-models")
    proc = run_cli("run", "--size", "small", "--frameworks", "torch,tensorflow,jax",
                   "--models", "cnn,transformer,lstm", "--batch-sizes", "1", "--mode", "infer",
                   "--iterations", "2", "--warmup", "0", "--threads", "1", "--no-report",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return load(out / "results.json")


@pytest.mark.points(2)
@pytest.mark.parametrize("model", ["cnn", "transformer", "lstm"])
def test_default_models_have_the_same_parameter_count_in_every_framework(
        default_models: ResultsFile, model: str) -> None:
    """Counted by each framework from the model it built (trainable parameters only)."""
    counts = {r.job.framework: (r.status, r.param_count)
              for r in default_models.results if r.job.model == model}
    expected = DEFAULT_COUNTS[model]
    assert counts == {fw: ("ok", expected) for fw in ("torch", "tensorflow", "jax")}
    assert param_count(PRESETS["small"][model]) == expected


@pytest.mark.points(3)
def test_training_reduces_the_loss(e2e: tuple[Path, ResultsFile]) -> None:
    _, doc = e2e
    train = [r for r in doc.results if r.job.mode == "train"]
    assert len(train) == 9
    for r in train:
        assert r.loss_first is not None and r.loss_last is not None
        assert r.loss_last < r.loss_first, (r.key, r.loss_first, r.loss_last)


@pytest.mark.points(3)
def test_inference_results_have_statistics_memory_and_fingerprint(
        e2e: tuple[Path, ResultsFile]) -> None:
    _, doc = e2e
    for r in doc.results:
        assert r.latency is not None and r.latency.n == 5 and len(r.samples_s) == 5
        assert r.latency.ci95_low <= r.latency.mean <= r.latency.ci95_high
        assert r.throughput is not None
        assert r.throughput == pytest.approx(4 / r.latency.mean)
        assert (r.memory["peak_rss_mb"] or 0) > 50  # a framework process is not tiny
        assert r.memory["cpu_util_pct"] is not None
        assert r.env is not None and r.env.framework == r.job.framework
        assert r.env.framework_version and r.env.threads == 1 and r.env.cpu_model
    torch_env = next(r.env for r in doc.results if r.job.framework == "torch")
    assert torch_env is not None and torch_env.extra["torch_threads"] == "1"


@pytest.mark.points(2)
def test_outputs_csv_html_and_markdown(e2e: tuple[Path, ResultsFile]) -> None:
    out, doc = e2e
    assert len((out / "results.csv").read_text().strip().splitlines()) == 1 + len(doc.results)
    page = (out / "report.html").read_text()
    assert "Plotly.newPlot" in page and "<script src=" not in page
    assert "Train throughput" in page and "Infer throughput" in page
    assert "Fastest framework" in (out / "summary.md").read_text()


@pytest.mark.points(1)
def test_memory_in_a_shared_worker_is_reported_per_job(e2e: tuple[Path, ResultsFile]) -> None:
    """Jobs of one framework share a worker: each result says so and carries its own growth
    over the RSS before its model was built, not just the process-wide peak."""
    _, doc = e2e
    for fw in ("torch", "tensorflow", "jax"):
        mine = [r for r in doc.results if r.job.framework == fw]
        assert len({r.worker_pid for r in mine}) == 1
        for r in mine:
            assert r.memory_method == "delta in a shared worker"
            assert r.memory["peak_rss_mb"] >= r.memory["rss_before_job_mb"] > 50
            assert r.memory["job_rss_delta_mb"] == pytest.approx(
                r.memory["peak_rss_mb"] - r.memory["rss_before_job_mb"], abs=1e-6)
        # Later jobs start where earlier ones left the process: the baseline carries them.
        assert max(r.memory["rss_before_job_mb"] for r in mine[1:]) \
            >= mine[0].memory["rss_before_job_mb"]


@pytest.mark.points(2)
def test_compare_a_run_with_itself_passes(e2e: tuple[Path, ResultsFile]) -> None:
    out, _ = e2e
    proc = run_cli("compare", str(out / "results.json"), str(out / "results.json"), "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    assert data["regressions"] == 0 and len(data["rows"]) == 18



@pytest.mark.hidden
@pytest.mark.points(2)
@pytest.mark.parametrize(("scale", "expect_rc"), [(1.30, 1), (1.01, 0)])
def test_compare_flags_injected_slowdown_on_real_results(
        e2e: tuple[Path, ResultsFile], tmp_path: Path, scale: float, expect_rc: int) -> None:
    out, doc = e2e
    slowed = doc.model_copy(deep=True)
    for r in slowed.results:
        r.samples_s = [x * scale for x in r.samples_s]
    new = tmp_path / "new.json"
    new.write_text(slowed.model_dump_json())
    proc = run_cli("compare", str(out / "results.json"), str(new), "--json")
    assert proc.returncode == expect_rc, proc.stderr
    data = json.loads(proc.stdout)
    if expect_rc:
        assert data["regressions"] >= 1
        assert all(r["comparison"]["relative_change"] == pytest.approx(0.30)
                   for r in data["rows"] if r["verdict"] == "regression")
    else:
        assert data["regressions"] == 0

def _fake_framework(tmp_path: Path, body: str) -> dict[str, str]:
    """A `jax` package shadowing the real one, to break the worker in a controlled way."""
    pkg = tmp_path / "fake" / "jax"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(body)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tmp_path / "fake")
    return env


@pytest.mark.points(3)
def test_framework_that_fails_to_import_is_skipped_with_reason(tmp_path: Path) -> None:
    env = _fake_framework(tmp_path, "raise ImportError('libjax.so: cannot open shared object')\n")
    out = tmp_path / "out"
    proc = run_cli("run", "--frameworks", "jax", "--models", "cnn", "--size", "tiny",
                   "--batch-sizes", "1", "--mode", "infer", "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    (r,) = load(out / "results.json").results
    assert r.status == "skipped"
    assert r.reason is not None and "libjax.so" in r.reason


@pytest.mark.points(3)
def test_crashing_worker_is_an_error_not_a_crash_of_the_run(tmp_path: Path) -> None:
    env = _fake_framework(tmp_path, "import os, sys\nsys.stderr.write('segfault-ish\\n')\n"
                                    "os._exit(3)\n")
    out = tmp_path / "out"
    proc = run_cli("run", "--frameworks", "jax", "--models", "cnn,lstm", "--size", "tiny",
                   "--batch-sizes", "1", "--mode", "infer", "--out", str(out), env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: 2 of 2 jobs failed")
    results = load(out / "results.json").results
    assert {r.status for r in results} == {"error"}
    assert all("exited with code 3" in (r.reason or "") and "segfault-ish" in (r.reason or "")
               for r in results)


@pytest.mark.hidden
@pytest.mark.points(3)
def test_hung_worker_is_killed_after_the_timeout(tmp_path: Path) -> None:
    env = _fake_framework(tmp_path, "import time\ntime.sleep(600)\n")
    env["MLBENCH_WORKER_TIMEOUT_S"] = "3"
    out = tmp_path / "out"
    proc = run_cli("run", "--frameworks", "jax", "--models", "cnn", "--size", "tiny",
                   "--batch-sizes", "1", "--mode", "infer", "--out", str(out), env=env,
                   timeout=120)
    assert proc.returncode == 1
    (r,) = load(out / "results.json").results
    assert r.status == "error" and "killed after the 3 s timeout" in (r.reason or "")


@pytest.mark.points(4)
def test_repeated_real_runs_of_the_same_code_pass_the_gate(tmp_path: Path) -> None:
    """Two `run --repeats 3` of the same job on this (shared, noisy) machine: no regression;
    the same baseline against a copy slowed down 30% is one, unless the baseline's own
    run-to-run noise is that large, which the gate then says instead of guessing."""
    outs = []
    for name in ("base", "again"):
        out = tmp_path / name
        proc = run_cli("run", "--size", "tiny", "--frameworks", "torch", "--models", "cnn",
                       "--batch-sizes", "4", "--mode", "infer", "--iterations", "10",
                       "--warmup", "2", "--threads", "1", "--repeats", "3", "--no-report",
                       "--out", str(out))
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs.append(out / "results.json")
    doc = load(outs[0])
    assert len(doc.results) == 1 and len(doc.results[0].run_medians_s) == 3
    # two processes minutes apart on a shared 2-core machine differ by up to ~8% even when
    # three repeats of one of them agree within 3%: a CI gate here sets a 10% minimum effect
    same = run_cli("compare", str(outs[0]), str(outs[1]), "--json", "--min-effect", "0.10")
    assert same.returncode == 0, same.stdout + same.stderr
    row = json.loads(same.stdout)["rows"][0]
    assert row["runs"]["runs_old"] == row["runs"]["runs_new"] == 3

    slowed = doc.model_copy(deep=True)
    for r in slowed.results:
        r.run_medians_s = [x * 1.30 for x in r.run_medians_s]
    new = tmp_path / "slow.json"
    new.write_text(slowed.model_dump_json())
    slow = run_cli("compare", str(outs[0]), str(new), "--json")
    runs = json.loads(slow.stdout)["rows"][0]["runs"]
    assert runs["ratio"] == pytest.approx(1.30)
    if runs["noise_floor"] < 0.29:
        assert slow.returncode == 1, slow.stdout
    else:  # this baseline cannot resolve 30%: reported as noise, not as a verdict
        assert slow.returncode == 0 and "noise" in runs["note"]
