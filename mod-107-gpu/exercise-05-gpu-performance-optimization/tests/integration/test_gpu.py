"""CUDA paths: fp16 + GradScaler, HTA's GPU analyses, CUDA graphs, memory snapshots, OOMs.

Marked `gpu`: skipped without CUDA. Only APIs present since torch 2.6 are used.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gpuopt.recipes import compose
from gpuopt.trainer import Trainer
from gpuopt.workloads import load_workload
from tests.helpers import invoke, read_json

pytestmark = [pytest.mark.integration, pytest.mark.gpu]


@pytest.mark.points(1)
def test_fp16_autocast_uses_a_grad_scaler() -> None:
    workload = load_workload("cnn")
    trainer = Trainer(workload, compose(["amp-fp16"], workload, "cuda")[0], device="cuda")
    assert trainer.scaler is not None
    records = trainer.run(3)
    assert all(r.loss == r.loss for r in records)  # finite
    assert trainer.scaler.get_scale() > 0
    assert trainer.peak_device_bytes() and trainer.peak_device_bytes() > 0


@pytest.mark.points(1)
def test_gpu_profile_has_kernels_hta_breakdowns_and_a_memory_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = invoke("profile", "--workload", "cnn", "--active", "2", "--out", str(out),
                    env={"GPUOPT_DEVICE": "cuda"})
    assert result.exit_code == 0, result.output
    assert (out / "memory_snapshot.pickle").stat().st_size > 0
    analysed = invoke("analyze", str(out), "--json", env={"GPUOPT_DEVICE": "cuda"})
    assert analysed.exit_code == 0, analysed.output
    analysis = read_json(out / "analysis.json")
    assert analysis["hta"]["temporal_breakdown"] and analysis["hta"]["idle_time_breakdown"]


@pytest.mark.points(1)
def test_cuda_graphs_through_reduce_overhead() -> None:
    workload = load_workload("cnn", 16)
    trainer = Trainer(workload, compose(["compile-cudagraphs"], workload, "cuda")[0],
                      device="cuda")
    records = trainer.run(4)
    assert all(r.loss == r.loss for r in records)


@pytest.mark.points(1)
def test_oom_search_with_a_memory_fraction() -> None:
    from gpuopt.batchsize import search

    result = search("cnn", 512 * 2**20, headroom=0.1, start=64, max_batch=8192,
                    device="cuda", verify_steps=2)
    assert result.verified and 64 <= result.answer < 8192
    assert any(not p.fits and "OutOfMemoryError" in p.detail for p in result.probes)
