"""Benchmarks for disttrain; writes benchmarks/results.json and the README's table.

1. Scaling (weak: per-rank batch 256, MLP hidden 256 x 4 blocks, ~0.5 M parameters), each
   rank with OMP_NUM_THREADS=1: samples/s at 1 and 2 processes, speedup (goal >= 1.5x for 2),
   communication share with and without bf16 gradient compression. BENCH_RUNS repetitions of
   the whole 1/2/2-bf16 set (median and 95% CI, aiinfra_shared.bench).
2. all_reduce busbw at 16 MiB on 2 gloo ranks (nccl-tests' definition), from the same runs.
3. Recovery: seconds from a SIGKILLed worker (step 25) to the first step after torchrun
   restarted the group and it resumed from step 20; checkpoint save and load times.
Knobs: BENCH_RUNS (3), BENCH_STEPS (30), BENCH_BATCH (256).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    markdown_table,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.procs.ports import free_port

from disttrain.config import TrainConfig
from disttrain.launch import LaunchSpec, launch
from disttrain.scale import run_scale

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
STEPS = int(os.environ.get("BENCH_STEPS", "30"))
BATCH = int(os.environ.get("BENCH_BATCH", "256"))
MIB16 = 16 * 1024 * 1024


def recovery(work: Path) -> dict[str, float]:
    out = work / "recovery"
    shutil.rmtree(out, ignore_errors=True)
    cfg = TrainConfig(name="recovery", steps=30, checkpoint_every=10, kill_at_step=25,
                      checkpoint_dir=str(out / "ck"))
    result = launch(LaunchSpec(nproc=2, port=free_port(), out=out, max_restarts=3), [cfg])
    report = result.reports.get("recovery")
    if result.returncode != 0 or report is None or report["resumed_from"] != 20:
        sys.exit(f"recovery run failed: {result.stderr_tail[-500:]}")
    killed_at = (out / "ck" / ".killed-once").stat().st_mtime
    return {"kill_to_first_step_s": report["first_step_at"] - killed_at,
            "save_s": report["checkpoint_save_s"][0], "load_s": report["checkpoint_load_s"]}


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="disttrain-bench-"))
    base = TrainConfig(steps=STEPS, hidden=256, blocks=4, samples=BATCH * 2 * 8)
    sps: dict[str, list[float]] = {"w1": [], "w2": [], "w2-bf16": []}
    share: dict[str, list[float]] = {"none": [], "bf16": []}
    busbw: list[float] = []
    docs: list[dict[str, Any]] = []
    for run in range(RUNS):
        doc = run_scale(base, [1, 2], BATCH, work / f"scale-{run}", free_port,
                        project_to=(1, 2, 8, 64, 512))
        docs.append(doc)
        for m in doc["measured"]:
            key = "w1" if m["world"] == 1 else ("w2" if m["comm_hook"] == "none" else "w2-bf16")
            sps[key].append(m["samples_per_s"])
            if m["world"] == 2:
                share[m["comm_hook"]].append(m["comm_share"])
        bench = json.loads((work / f"scale-{run}" / "scale-w2-none" / "commbench.json")
                           .read_text())["results"]
        busbw.append(next(r["busbw_gbps"] for r in bench if r["bytes"] == MIB16))
        print(f"scale run {run + 1}/{RUNS}: {doc['measured']}", flush=True)
    speedups = [b / a for a, b in zip(sps["w1"], sps["w2"], strict=True)]
    recoveries = [recovery(work) for _ in range(max(1, RUNS - 1))]
    stats = {
        "samples_per_s_1proc": summarize(sps["w1"], unit="samples/s"),
        "samples_per_s_2proc": summarize(sps["w2"], unit="samples/s"),
        "samples_per_s_2proc_bf16": summarize(sps["w2-bf16"], unit="samples/s"),
        "speedup_2proc": summarize(speedups, unit="x"),
        "comm_share_2proc": summarize(share["none"], unit="share"),
        "comm_share_2proc_bf16": summarize(share["bf16"], unit="share"),
        "allreduce_busbw_16MiB": summarize(busbw, unit="GB/s"),
        "kill_to_first_step": summarize([r["kill_to_first_step_s"] for r in recoveries]),
        "checkpoint_save": summarize([r["save_s"] for r in recoveries]),
        "checkpoint_load": summarize([r["load_s"] for r in recoveries]),
    }
    benchmarks: dict[str, Any] = {k: v.as_dict() for k, v in stats.items()}
    benchmarks["speedup_2proc"]["goal"] = ">= 1.5x"
    benchmarks["projection"] = docs[-1].get("projection", [])
    benchmarks["ring_fit"] = docs[-1].get("ring_fit", {})
    labels = {
        "samples_per_s_1proc": "samples/s, 1 process",
        "samples_per_s_2proc": "samples/s, 2 processes",
        "samples_per_s_2proc_bf16": "samples/s, 2 processes, bf16 compression",
        "speedup_2proc": "speedup 2 vs 1 (goal >= 1.5x)",
        "comm_share_2proc": "communication share, 2 processes",
        "comm_share_2proc_bf16": "communication share, 2 processes, bf16",
        "allreduce_busbw_16MiB": "all_reduce busbw at 16 MiB (gloo, 2 ranks)",
        "kill_to_first_step": "SIGKILLed worker -> first step after resume",
        "checkpoint_save": "checkpoint save (DDP, rank 0, torch format)",
        "checkpoint_load": "checkpoint load",
    }
    rows = [[labels[k], v.format()] for k, v in stats.items()]
    table = markdown_table(["benchmark", "median (95% CI)"], rows)
    payload = results_document("mod-107-gpu/exercise-06-distributed-gpu-training", benchmarks,
                               notes=f"weak scaling, per-rank batch {BATCH}, {STEPS} steps, "
                                     f"hidden 256 x 4 blocks, OMP_NUM_THREADS=1 per rank; "
                                     f"{RUNS} runs; gloo on CPU")
    write_results(HERE / "results.json", payload)
    update_readme(ROOT / "README.md", table)
    print(table)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
