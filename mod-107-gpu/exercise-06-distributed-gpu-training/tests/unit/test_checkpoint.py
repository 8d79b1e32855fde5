"""Checkpoints in one process: atomic, complete or skipped, last K kept, model checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from disttrain import checkpoint as ckpt
from disttrain.cli import cli as app
from disttrain.config import TrainConfig
from disttrain.errors import CheckpointError
from disttrain.runtime import init_distributed
from disttrain.train import train
from tests.helpers import max_diff

CFG = TrainConfig(strategy="single", steps=8, checkpoint_every=2, keep_last=2, hidden=16)


@pytest.fixture
def trained(tmp_path: Path) -> Path:
    train(CFG.overrides(checkpoint_dir=str(tmp_path / "ck")), init_distributed("cpu"))
    return tmp_path / "ck"


@pytest.mark.points(2)
def test_keeps_the_last_k_and_latest_points_to_the_newest(trained: Path) -> None:
    assert sorted(p.name for p in trained.glob("step-*")) == ["step-00000006",
                                                              "step-00000008"]
    assert (trained / "latest").read_text().strip() == "step-00000008"
    assert not list(trained.glob(".*.tmp"))


@pytest.mark.points(3)
def test_resume_equals_an_uninterrupted_run(trained: Path, tmp_path: Path) -> None:
    # drop the newest: resuming from step 6 must give the same weights as straight to 12
    shutil.rmtree(trained / "step-00000008")
    resumed = train(CFG.overrides(steps=12, checkpoint_dir=str(trained)),
                    init_distributed("cpu"))
    assert resumed.resumed_from == 6
    straight = train(CFG.overrides(steps=12), init_distributed("cpu"))
    assert max_diff(resumed.weights, straight.weights) == 0.0
    assert resumed.losses == straight.losses[6:]


@pytest.mark.points(3)
def test_partial_checkpoint_is_skipped_for_the_previous(trained: Path) -> None:
    newest = trained / "step-00000008"
    state = newest / "state.pt"
    state.write_bytes(state.read_bytes()[:100])  # torn write: size no longer matches meta
    found = ckpt.find_latest(trained)
    assert found is not None and found.step == 6
    (trained / "step-00000006" / "meta.json").unlink()  # never completed
    assert ckpt.find_latest(trained) is None
    assert ckpt.is_complete(newest) is None


@pytest.mark.points(1)
def test_meta_lists_every_file_with_its_size(trained: Path) -> None:
    meta = json.loads((trained / "step-00000008" / "meta.json").read_text())
    assert meta["format"] == "torch" and meta["step"] == 8 and meta["world_size"] == 1
    assert meta["files"] == {"state.pt": (trained / "step-00000008" / "state.pt").stat().st_size}


@pytest.mark.points(2)
def test_checkpoint_of_another_model_is_refused(trained: Path) -> None:
    other = CFG.overrides(hidden=32, checkpoint_dir=str(trained))
    with pytest.raises(CheckpointError, match="another model"):
        train(other, init_distributed("cpu"))
    result = CliRunner().invoke(app, ["train", "--strategy", "single", "--checkpoint-dir",
                                      str(trained), "--steps", "3"])
    assert result.exit_code == 6
    assert result.output.startswith("error: checkpoint ") and "is of another model" in \
        result.output and result.output.count("\n") == 1


@pytest.mark.points(2)
@pytest.mark.hidden
def test_rng_and_scheduler_are_restored(trained: Path) -> None:
    state = torch.load(trained / "step-00000008" / "state.pt", weights_only=False)
    assert state["scheduler"]["last_epoch"] == 8
    assert state["position"] == {"epoch": 0, "offset": 8 * 64}
    torch.manual_seed(1234)
    resumed = train(CFG.overrides(steps=9, checkpoint_dir=str(trained)),
                    init_distributed("cpu"))
    assert resumed.resumed_from == 8
    after_resume = torch.random.get_rng_state()
    torch.random.set_rng_state(state["rng"][0]["torch"])
    assert torch.equal(after_resume, torch.random.get_rng_state())  # no dropout: untouched
