"""`gpuopt tune`: interleaved measurement, loss guard, reports; one torch.compile run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gpuopt.recipes import compose
from gpuopt.trainer import Trainer
from gpuopt.workloads import load_workload
from tests.helpers import invoke, read_json

pytestmark = pytest.mark.integration


@pytest.mark.points(6)
def test_tune_measures_each_recipe_and_the_recommended_set(tmp_path: Path) -> None:
    out = tmp_path / "tune"
    result = invoke("tune", "--workload", "databound", "--recipes", "dataloader,checkpoint",
                    "--rounds", "2", "--steps", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "before / after" in result.output and "data" in result.output
    doc = read_json(out / "tune.json")
    rows = {r["variant"]: r for r in doc["variants"]}
    recommended = doc["recommended"]
    assert recommended and recommended[0].startswith("dataloader:")
    assert {"baseline", "dataloader", "checkpoint", "recommended"} <= set(rows)
    assert rows["recommended"]["recipes"] == recommended
    for row in rows.values():
        assert row["n"] == 4 and row["median_step_s"] > 0 and row["loss_ok"]
        assert row["loss_rel_delta"] <= doc["options"]["loss_tolerance"]
    # workers move the data wait out of the step; checkpointing shrinks saved activations
    assert rows["dataloader"]["phase_shares"]["data"] < rows["baseline"]["phase_shares"]["data"]
    assert rows["checkpoint"]["peak_activation_bytes"] < rows["baseline"][
        "peak_activation_bytes"]
    assert rows["baseline"]["speedup"] == pytest.approx(1.0)
    assert rows[recommended[0]]["expected_speedup"] > 1.0
    assert doc["cpu"]["model"] and "amx_bf16" in doc["cpu"]
    markdown = (out / "tune.md").read_text()
    assert "## Baseline breakdown" in markdown and "| recommended |" in markdown
    html = (out / "tune.html").read_text()
    assert html.startswith("<!doctype html>") and "<table>" in html and "<script" not in html
    assert (out / "profile-baseline" / "trace" / "gpuopt.pt.trace.json").is_file()


@pytest.mark.points(2)
@pytest.mark.hidden
def test_loss_guard_fails_loudly_on_a_changed_loss(tmp_path: Path) -> None:
    out = tmp_path / "tune"
    result = invoke("tune", "--workload", "cnn", "--recipes", "amp-bf16", "--set",
                    "amp-bf16", "--rounds", "1", "--steps", "1", "--out", str(out),
                    env={"GPUOPT_LOSS_TOLERANCE": "1e-9"})
    assert result.exit_code == 1
    assert "loss guard failed for amp-bf16" in result.output.splitlines()[-1]
    rows = {r["variant"]: r for r in read_json(out / "tune.json")["variants"]}
    assert rows["baseline"]["loss_ok"] and not rows["amp-bf16"]["loss_ok"]


@pytest.mark.points(4)
def test_torch_compile_trains_like_eager() -> None:
    workload = load_workload("cnn", 8)
    eager = Trainer(workload, compose([], workload, "cpu")[0]).run(2)
    compiled = Trainer(workload, compose(["compile"], workload, "cpu")[0])
    assert isinstance(compiled.forward_model, torch._dynamo.eval_frame.OptimizedModule)
    records = compiled.run(2)
    assert [r.loss for r in records] == pytest.approx([r.loss for r in eager], rel=1e-3)
    assert compiled.peak_activation_bytes is None  # the saved-tensor meter is off under compile
