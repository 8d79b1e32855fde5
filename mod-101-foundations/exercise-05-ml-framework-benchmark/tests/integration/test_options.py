"""Runner options for real: scenarios, bf16, channels_last, XLA/jit on and off."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlbench.results import load

from .test_end_to_end import run_cli

pytestmark = pytest.mark.integration


@pytest.mark.points(4)
def test_torch_scenarios_bf16_and_channels_last(tmp_path: Path) -> None:
    proc = run_cli("run", "--frameworks", "torch", "--models", "cnn", "--size", "tiny",
                   "--mode", "infer", "--batch-sizes", "4", "--dtypes", "fp32,bf16",
                   "--channels-last", "both", "--scenarios", "single_stream,offline,server",
                   "--queries", "12", "--iterations", "4", "--threads", "1",
                   "--latency-bound-ms", "2000", "--out", str(tmp_path), "--no-report")
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = load(tmp_path / "results.json").results
    assert len(results) == 2 * 2 * 4
    assert {r.status for r in results} == {"ok"}, [(r.key, r.reason) for r in results]
    assert any(r.channels_last_applied for r in results)
    assert {r.job.dtype for r in results} == {"fp32", "bf16"}
    for r in results:  # the effect, read back from the model, not the option echoed
        assert r.applied["compute_dtype"] == ("bfloat16" if r.job.dtype == "bf16"
                                              else "float32"), (r.key, r.applied)
        assert r.applied["param_dtype"] == "float32"  # mixed precision: fp32 master weights
        assert r.applied["compiled"] is False  # --jit auto: eager PyTorch
    server = [r for r in results if r.job.scenario == "server"]
    for r in server:
        assert r.scenario is not None
        assert r.scenario["target_qps"] > 0  # auto: half the measured capacity
        assert r.scenario["target_met"] is True  # a 2 s bound at half load
        assert len(r.samples_s) == 12
    offline = [r for r in results if r.job.scenario == "offline"]
    assert all(r.scenario and r.scenario["samples"] == 12 * 4 for r in offline)
    assert not (tmp_path / "report.html").exists()  # --no-report


@pytest.mark.points(2)
@pytest.mark.slow
def test_xla_on_and_off_for_tensorflow_and_jax(tmp_path: Path) -> None:
    proc = run_cli("run", "--frameworks", "tensorflow,jax", "--models", "cnn", "--size", "tiny",
                   "--mode", "infer", "--batch-sizes", "2", "--jit", "both", "--iterations", "3",
                   "--dtypes", "fp32,bf16", "--threads", "1", "--out", str(tmp_path),
                   "--no-report")
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = load(tmp_path / "results.json").results
    assert {(r.job.framework, r.job.jit, r.job.dtype, r.status) for r in results} == {
        (fw, jit, dtype, "ok") for fw in ("tensorflow", "jax") for jit in (False, True)
        for dtype in ("fp32", "bf16")}
    for r in results:
        applied = r.applied
        # XLA on: TF's graph carries _XlaMustCompile; JAX traced the step once and reused
        # the compiled function for every later call. XLA off: neither.
        assert applied["compiled"] is r.job.jit, (r.key, applied)
        if r.job.framework == "jax":
            assert applied["traces"] == 1 if r.job.jit else applied["traces"] >= 3 + 1
        else:
            assert applied["traces"] == 1  # a tf.function graph either way
        assert applied["compute_dtype"] == ("bfloat16" if r.job.dtype == "bf16"
                                            else "float32"), (r.key, applied)
        assert applied["param_dtype"] == "float32"



@pytest.mark.points(2)
def test_isolated_jobs_each_get_a_fresh_worker(tmp_path: Path) -> None:
    """--isolate-jobs: every job in its own worker process, so its peak is its own."""
    proc = run_cli("run", "--frameworks", "torch", "--models", "cnn,lstm", "--size", "tiny",
                   "--mode", "infer", "--batch-sizes", "4", "--iterations", "3", "--threads",
                   "1", "--no-report", "--isolate-jobs", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = load(tmp_path / "results.json").results
    assert len({r.worker_pid for r in results}) == 2  # one fresh process per job
    assert {r.memory_method for r in results} == {"fresh worker per job"}
    for r in results:
        assert r.memory["peak_rss_mb"] >= r.memory["rss_before_job_mb"] > 50
