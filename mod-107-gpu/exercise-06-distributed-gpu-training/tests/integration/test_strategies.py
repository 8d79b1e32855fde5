"""DDP and FSDP2 on 2 gloo ranks reach the single-process weights; FSDP shards and DCP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from disttrain import checkpoint as ckpt
from disttrain.runtime import init_distributed
from disttrain.train import train
from tests.conftest import Suite
from tests.helpers import max_diff, single

ATOL = 1e-5


@pytest.mark.points(4)
def test_ddp_reaches_single_process_weights(suite: Suite) -> None:
    report = suite.report("ddp")
    assert report["world_size"] == 2 and report["backend"] == "gloo"
    assert report["ranks_agree"], report["rank_checksums"]
    reference = single(suite.configs["ddp"])
    assert max_diff(suite.weights("ddp"), reference.weights) <= ATOL
    assert report["losses"] == pytest.approx(reference.losses, abs=1e-5)


@pytest.mark.points(4)
def test_fsdp_reaches_single_process_weights(suite: Suite) -> None:
    reference = single(suite.configs["fsdp"])
    assert max_diff(suite.weights("fsdp"), reference.weights) <= ATOL
    assert suite.report("fsdp")["ranks_agree"]


@pytest.mark.points(3)
def test_fsdp_parameters_are_dtensors_holding_half_the_rows(suite: Suite) -> None:
    shards = suite.report("fsdp")["shards"]
    assert len(shards) == 2
    for rank, rank_shards in enumerate(shards):
        assert set(rank_shards) >= {"inp.weight", "blocks.0.fc1.weight", "head.weight"}
        for name, info in rank_shards.items():
            assert info["type"] == "DTensor", name
            rows = info["global"][0]
            first = (rows + 1) // 2  # dim-0 chunks, as torch.chunk: rank 0 takes the ceil
            assert info["local"][0] == (first if rank == 0 else rows - first), (name, info)
            assert info["local"][1:] == info["global"][1:]
    assert shards[0]["inp.weight"]["local"] == [32, 16]  # 64 rows: half on each rank


@pytest.mark.points(2)
def test_fsdp_bf16_params_reduce_in_fp32_and_train(suite: Suite) -> None:
    bf16 = suite.report("fsdp-bf16")
    fp32 = suite.report("fsdp")
    assert all(info["dtype"] == "torch.float32" for info in bf16["shards"][0].values())
    assert bf16["losses"][-1] < bf16["losses"][0]
    assert bf16["losses"][-1] == pytest.approx(fp32["losses"][-1], rel=0.05)
    assert max_diff(suite.weights("fsdp-bf16"), suite.weights("fsdp")) > 0  # bf16 is not fp32


@pytest.mark.points(3)
def test_two_rank_dcp_checkpoint_loads_into_one_process(suite: Suite) -> None:
    found = ckpt.find_latest(Path(suite.configs["fsdp"].checkpoint_dir or ""))
    assert found is not None and found.meta["format"] == "dcp"
    assert found.meta["world_size"] == 2 and found.step == suite.report("fsdp")["steps_done"]
    assert {"__0_0.distcp", "__1_0.distcp", ".metadata"} <= set(found.meta["files"])
    full = ckpt.full_model_state(found.path)
    assert max_diff(full, suite.weights("fsdp")) == 0.0


@pytest.mark.points(4)
@pytest.mark.hidden
def test_resume_fsdp_checkpoint_on_another_world_size(suite: Suite, tmp_path: Path) -> None:
    """2 FSDP ranks -> 1 process: DCP reshards, the sampler position converts, and the
    continued run equals an uninterrupted single-process run."""
    cfg = suite.configs["fsdp"]
    ck = tmp_path / "ck"
    shutil.copytree(Path(cfg.checkpoint_dir or ""), ck)
    longer = cfg.overrides(steps=cfg.steps + 6, strategy="single", accumulation_steps=1,
                           checkpoint_dir=str(ck), checkpoint_every=0)
    resumed = train(longer, init_distributed("cpu"))
    assert resumed.resumed_from == cfg.steps
    assert resumed.steps_done == cfg.steps + 6
    reference = single(longer)
    assert max_diff(resumed.weights, reference.weights) <= ATOL


@pytest.mark.points(2)
@pytest.mark.hidden
def test_comm_hooks_run_and_bf16_keeps_the_loss(suite: Suite) -> None:
    plain = suite.report("ddp")["losses"]
    bf16 = suite.report("ddp-bf16")["losses"]
    powersgd = suite.report("ddp-powersgd")["losses"]
    assert bf16[-1] == pytest.approx(plain[-1], rel=0.03)
    assert bf16 != plain  # the hook really compressed the gradients
    assert powersgd[-1] < powersgd[0]
    assert suite.report("ddp-powersgd")["ranks_agree"]
    assert max_diff(suite.weights("ddp-powersgd"), suite.weights("ddp")) > 1e-4


@pytest.mark.points(3)
def test_planted_delay_on_rank_1_is_named(suite: Suite) -> None:
    windows = suite.report("straggler")["straggler_reports"]
    assert len(windows) == 2
    for window in windows:
        assert window["straggler"] == 1, window
        assert window["phase"] == "compute"
        assert window["lag_ms"] > 25
        # the fast rank is the one blocked: its wait holds the planted 60 ms
        assert window["per_rank"][0]["blocked_ms"] > window["per_rank"][1]["blocked_ms"]
    metric = Path(suite.configs["straggler"].checkpoint_dir or "").parent
    lines = (metric / "straggler.jsonl").read_text().splitlines()
    assert [json.loads(line)["straggler"] for line in lines] == [1, 1]
    assert "disttrain_straggler_rank 1" in (metric / "disttrain.prom").read_text()


@pytest.mark.points(2)
def test_ddp_checkpoints_every_n_steps_keep_last_and_latest(suite: Suite) -> None:
    directory = Path(suite.configs["ddp"].checkpoint_dir or "")
    names = sorted(p.name for p in directory.glob("step-*"))
    assert names == ["step-00000006", "step-00000012"]
    assert (directory / "latest").read_text().strip() == "step-00000012"
    state = torch.load(directory / "step-00000012" / "state.pt", weights_only=False)
    assert state["step"] == 12 and len(state["rng"]) == 2
    assert state["position"] == {"epoch": 0, "offset": 12 * 64}
    assert {"model", "optim", "scheduler"} <= set(state)
