"""Batch geometry, config sources and the sampler's exact resume position."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from disttrain.config import Delay, TrainConfig, load_train_config, per_rank_batch
from disttrain.data import BatchStream, Position, ResumableSampler
from disttrain.errors import ConfigurationError
from disttrain.model import build_dataset


@pytest.mark.points(2)
def test_global_batch_is_per_rank_times_world_times_accumulation() -> None:
    assert per_rank_batch(64, 2, 2) == 16
    assert per_rank_batch(64, 1, 1) == 64
    assert TrainConfig(global_batch=96, accumulation_steps=3).per_rank_batch(4) == 8
    with pytest.raises(ConfigurationError, match="not divisible by world size 3"):
        per_rank_batch(64, 3, 1)
    with pytest.raises(ConfigurationError, match="accumulation steps 3"):
        per_rank_batch(64, 2, 3)


@pytest.mark.points(1)
def test_inject_delay_parses_and_rejects() -> None:
    assert Delay.parse("rank=1,ms=40") == Delay(rank=1, ms=40.0, phase="compute")
    assert Delay.parse("rank=0, ms=5, phase=data").phase == "data"
    for bad in ("rank=1", "r=1,ms=2", "rank=x,ms=2", "rank=1,ms=2,phase=io"):
        with pytest.raises(ConfigurationError):
            Delay.parse(bad)


@pytest.mark.points(1)
def test_config_file_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("train:\n  strategy: fsdp\n  steps: 7\n  hidden: 32\n")
    cfg = load_train_config(path, steps=9)
    assert (cfg.strategy, cfg.steps, cfg.hidden) == ("fsdp", 9, 32)


def _global_batches(world: int, batch: int, count: int, start: Position | None = None
                    ) -> list[list[int]]:
    dataset = build_dataset(256, 4, seed=3)
    streams = [BatchStream(dataset, world, r, batch, seed=3, start=start) for r in range(world)]
    out = []
    for _ in range(count):
        out.append(sorted(i for s in streams for i in s.next_indices()))
    return out


@pytest.mark.points(3)
def test_rank_batches_together_are_the_single_process_batch() -> None:
    two = _global_batches(world=2, batch=16, count=20)  # crosses the epoch boundary (8/epoch)
    one = _global_batches(world=1, batch=32, count=20)
    assert two == one
    assert two[0] != two[8]  # set_epoch reshuffles


@pytest.mark.points(3)
def test_resume_position_is_exact_across_world_sizes() -> None:
    full = _global_batches(world=2, batch=16, count=12)
    dataset = build_dataset(256, 4, seed=3)
    stream = BatchStream(dataset, 2, 0, 16, seed=3)
    for _ in range(5):
        stream.next_indices()
    assert stream.position == Position(0, 5 * 32)
    # resume the remaining batches on 1 process (and on 2) from the saved position
    assert _global_batches(1, 32, 7, start=Position(0, 160)) == full[5:]
    assert _global_batches(2, 16, 7, start=Position(0, 160)) == full[5:]


@pytest.mark.points(1)
def test_sampler_start_at_needs_a_multiple_of_the_world() -> None:
    sampler = ResumableSampler(build_dataset(64, 4, 0), 2, 1, seed=0)
    sampler.start_at(10)
    assert len(list(iter(sampler))) == 32 - 5
    with pytest.raises(ValueError):
        sampler.start_at(3)
    assert torch.tensor(list(iter(sampler))).numel() == 32  # only one epoch starts late
