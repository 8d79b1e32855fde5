"""Ray Train TorchTrainer: a worker killed once, FailureConfig(max_failures=1), resumed."""

from __future__ import annotations

from pathlib import Path

import pytest

from disttrain.config import TrainConfig
from disttrain.ray_train import run_ray


@pytest.mark.slow
@pytest.mark.points(4)
def test_ray_train_survives_a_killed_worker(tmp_path: Path) -> None:
    cfg = TrainConfig(name="ray", steps=16, checkpoint_every=4, kill_at_step=10,
                      checkpoint_dir=str(tmp_path / "ck"))
    report = run_ray(cfg, workers=2, out=tmp_path / "out", max_failures=1)
    assert (tmp_path / "ck" / ".killed-once").is_file()  # the kill really happened
    assert report["world_size"] == 2 and report["backend"] == "gloo"
    assert report["steps_done"] == 16 and report["ranks_agree"]
    # Ray registers reported checkpoints with a delay: "not from step 0", not "the last one"
    assert report["resumed_from"] is not None and 0 < report["resumed_from"] <= 8
    assert report["resumed_from"] % 4 == 0
    assert report["ray_checkpoint"]
