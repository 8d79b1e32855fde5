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
                   "--dtypes", "fp32,bf16", "--iterations", "5", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = load(tmp_path / "results.json").results
    ok = [r for r in results if r.status == "ok"]
    if not ok:  # e.g. the CPU-only TensorFlow wheel: reported as skipped, with the reason
        assert all(r.status == "skipped" and r.reason for r in results)
        pytest.skip(f"{framework}: {results[0].reason}")
    for r in ok:
        assert r.env is not None and r.env.device == "gpu"
        assert (r.memory.get("device_peak_mb") or 0) > 0
        assert r.memory.get("gpu_util_pct") is not None  # NVML sampled (nvidia-ml-py)
