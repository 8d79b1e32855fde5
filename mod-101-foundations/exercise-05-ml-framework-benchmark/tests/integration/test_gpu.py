"""GPU paths: device sync, peak device memory, NVML utilisation. Skipped without CUDA."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlbench.results import load

from .test_end_to_end import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.gpu]


@pytest.mark.points(1)
@pytest.mark.parametrize("framework", ["torch", "tensorflow", "jax"])
def test_gpu_run_records_device_memory(tmp_path: Path, framework: str) -> None:
    proc = run_cli("run", "--frameworks", framework, "--models", "cnn", "--size", "tiny",
                   "--device", "gpu", "--mode", "train,infer", "--batch-sizes", "8",
                   "--dtypes", "fp32,bf16", "--iterations", "5", "--isolate-jobs",
                   "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = load(tmp_path / "results.json").results
    ok = [r for r in results if r.status == "ok"]
    if not ok:  # e.g. the CPU-only TensorFlow wheel: reported as skipped, with the reason
        assert all(r.status == "skipped" and r.reason for r in results)
        pytest.skip(f"{framework}: {results[0].reason}")
    assert len({r.worker_pid for r in ok}) == len(ok)  # a fresh worker per job
    for r in ok:
        assert r.env is not None and r.env.device == "gpu"
        assert r.memory_method == "fresh worker per job"
        assert (r.memory.get("device_peak_mb") or 0) > 0  # this job's own peak
        assert r.memory.get("gpu_util_pct") is not None  # NVML sampled (nvidia-ml-py)


@pytest.mark.points(1)
def test_jax_device_peak_in_a_shared_worker_is_never_an_earlier_jobs(tmp_path: Path) -> None:
    """XLA's peak cannot be reset: a smaller job after a bigger one in the same worker must
    not report the bigger job's peak as its own (null instead)."""
    proc = run_cli("run", "--frameworks", "jax", "--models", "cnn", "--size", "tiny",
                   "--device", "gpu", "--mode", "train", "--batch-sizes", "256,1",
                   "--iterations", "3", "--out", str(tmp_path), "--no-report")
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = {r.job.batch_size: r for r in load(tmp_path / "results.json").results}
    if any(r.status != "ok" for r in results.values()):
        pytest.skip(f"jax on GPU: {results[256].reason}")
    assert (results[256].memory["device_peak_mb"] or 0) > 0
    assert results[1].memory["device_peak_mb"] is None
