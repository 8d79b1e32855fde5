"""CUDA paths: NCCL (world 1 and 2) and FSDP2 with bf16 on a GPU. Skip without CUDA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiinfra_shared.procs.ports import free_port

from tests.helpers import cli


@pytest.mark.gpu
@pytest.mark.points(1)
def test_ddp_on_nccl_world_one(tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("device: cuda\nstrategy: ddp\nsteps: 8\n")
    result = cli("launch", "--config", str(config), "--nproc", "1", "--port",
                 str(free_port()), "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["backend"] == "nccl" and report["losses"][-1] < report["losses"][0]


@pytest.mark.gpu
@pytest.mark.points(1)
def test_fsdp2_bf16_on_cuda(tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("device: cuda\nstrategy: fsdp\nfsdp_bf16: true\nsteps: 8\n"
                      f"checkpoint_dir: {tmp_path / 'ck'}\n")
    result = cli("launch", "--config", str(config), "--nproc", "1", "--port",
                 str(free_port()), "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["backend"] == "nccl"
    assert all(s["type"] == "DTensor" for s in report["shards"][0].values())
    assert (tmp_path / "ck" / "latest").is_file()


@pytest.mark.gpu(count=2)
@pytest.mark.points(1)
def test_ddp_on_two_gpus_matches_ranks(tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("device: cuda\nstrategy: ddp\nsteps: 8\n")
    result = cli("launch", "--config", str(config), "--nproc", "2", "--port",
                 str(free_port()), "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["world_size"] == 2 and report["ranks_agree"]
