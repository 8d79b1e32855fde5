"""Recipes do what they claim: same maths where they should, visible effects in the trace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from gpuopt.recipes import compose
from gpuopt.traces import load_run
from gpuopt.trainer import Trainer
from gpuopt.workloads import load_workload
from tests.helpers import read_json


def _params(trainer: Trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in trainer.model.parameters()]


@pytest.mark.points(4)
def test_gradient_accumulation_4x8_equals_one_batch_of_32() -> None:
    workload = load_workload("cnn", 32)
    plain = Trainer(workload, compose([], workload, "cpu")[0])
    accumulated = Trainer(workload, compose(["grad-accum"], workload, "cpu")[0])
    assert accumulated.spec.accumulation == 4
    before = _params(plain)
    record_plain, record_acc = plain.step(), accumulated.step()
    assert record_plain.samples == record_acc.samples == 32
    assert record_plain.loss == pytest.approx(record_acc.loss, abs=1e-6)
    changed = False
    for a, b, start in zip(_params(plain), _params(accumulated), before, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
        changed |= not torch.equal(a, start)
    assert changed  # the step really updated the weights


@pytest.mark.points(2)
@pytest.mark.hidden
def test_foreach_and_fused_optimizers_make_the_same_update() -> None:
    workload = load_workload("llama", 4)
    results = {}
    for recipe in ([], ["foreach-optim"], ["fused-optim"]):
        trainer = Trainer(workload, compose(recipe, workload, "cpu")[0])
        trainer.run(2)
        results[tuple(recipe)] = _params(trainer)
    for other in (("foreach-optim",), ("fused-optim",)):
        for a, b in zip(results[()], results[other], strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.points(2)
def test_dataloader_workers_keep_the_data_order() -> None:
    workload = load_workload("databound", 8)
    base = Trainer(workload, compose([], workload, "cpu")[0]).run(3)
    workers = Trainer(workload, compose(["dataloader:2"], workload, "cpu")[0])
    assert workers.loader.num_workers == 2 and workers.loader.persistent_workers
    assert [r.loss for r in workers.run(3)] == pytest.approx([r.loss for r in base], abs=1e-6)


def _op_rows(run: Path, names: tuple[str, ...]) -> list[tuple[str, str]]:
    events = load_run(run).events
    rows = events[events["name"].isin(names)]
    return list(zip(rows["input_type"].astype(str), rows["input_strides"].astype(str),
                    strict=True))


@pytest.mark.points(3)
def test_bf16_autocast_feeds_bf16_to_the_matmuls(profiled: Callable[..., Path]) -> None:
    # the kernels' own inputs (autocast casts between aten::conv2d and aten::convolution)
    matmuls = ("aten::addmm", "aten::mm", "aten::convolution")
    base = _op_rows(profiled("cnn"), matmuls)
    amp = _op_rows(profiled("cnn", "amp-bf16"), matmuls)
    assert base and len(amp) == len(base)
    assert all("BFloat16" not in types for types, _ in base)
    assert all(types.startswith("['c10::BFloat16', 'c10::BFloat16'") for types, _ in amp), amp
    assert read_json(profiled("cnn", "amp-bf16") / "run.json")["spec"]["amp"] == "bf16"


@pytest.mark.points(3)
def test_channels_last_changes_the_conv_input_strides(profiled: Callable[..., Path]) -> None:
    def first_conv_strides(run: Path) -> str:
        rows = _op_rows(run, ("aten::conv2d",))
        return rows[0][1]

    # input [32, 3, 32, 32]: NCHW strides (3072, 1024, 32, 1) vs NHWC (3072, 1, 96, 3)
    assert first_conv_strides(profiled("cnn")).startswith("[[3072, 1024, 32, 1]")
    assert first_conv_strides(profiled("cnn", "channels-last")).startswith("[[3072, 1, 96, 3]")


@pytest.mark.points(4)
def test_checkpointing_cuts_activation_memory_in_the_timeline(
        profiled: Callable[..., Path]) -> None:
    def activation(run: Path) -> int:
        timeline = read_json(run / "memory_timeline.json")
        return int(timeline["peak_bytes_by_category"]["activation"])

    base, ckpt = activation(profiled("cnn")), activation(profiled("cnn", "checkpoint"))
    assert base > 0
    assert ckpt <= 0.7 * base, (base, ckpt)
    # the trainer's own saved-tensor meter agrees on the direction
    meter = [read_json(profiled("cnn", *r) / "run.json")["peak_activation_bytes"]
             for r in ((), ("checkpoint",))]
    assert meter[1] < 0.7 * meter[0]
