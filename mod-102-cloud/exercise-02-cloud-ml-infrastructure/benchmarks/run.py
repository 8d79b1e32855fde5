"""Benchmarks for cloudml: write benchmarks/results.json and the README table.

1. AWS dev apply on moto with -parallelism=10 versus 1, interleaved A-B-B-A
   (`compare_abba`): each call plans (not timed), applies (timed: the apply command only),
   then destroys (timed separately). Goal: >= 1.5x.
2. plan / apply / destroy seconds of the dev env (from the same runs).
3. Monthly cost per env (dev, staging, prod) from their plans and the dated price table.

Knobs: BENCH_ROUNDS (default 1: one A-B-B-A round is four full apply/destroy cycles).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    compare_abba,
    markdown_table,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.procs.services import start_moto_server
from aiinfra_shared.procs.terraform import moto_env

from cloudml.config import Settings
from cloudml.demo import MOTO_VARIABLES, environment
from cloudml.layout import Target
from cloudml.operations import Platform

HERE = Path(__file__).resolve().parent
EXERCISE = HERE.parent
README = EXERCISE / "README.md"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
DEV = Target("aws", "dev")


def main() -> None:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cloudml-bench-") as work:
        moto = start_moto_server(Path(work))
        try:
            with environment(moto_env(moto.endpoint_url)):
                results = run(Path(work))
        finally:
            moto.stop()
    results["total_seconds"] = round(time.perf_counter() - began, 1)
    publish(results)


def run(work: Path) -> dict[str, Any]:
    def platform(parallelism: int) -> Platform:
        return Platform(Settings(terraform_dir=EXERCISE / "terraform",
                                 work_dir=work / f"p{parallelism}", parallelism=parallelism))

    serial, parallel = platform(1), platform(10)
    serial.bootstrap()
    timings: dict[str, list[float]] = {"plan": [], "apply": [], "destroy": []}

    def cycle(p: Platform) -> float:
        start = time.perf_counter()
        p.plan(DEV, MOTO_VARIABLES)
        plan_s = time.perf_counter() - start
        applied = p.apply(DEV)
        start = time.perf_counter()
        p.destroy(DEV, MOTO_VARIABLES)
        if p is parallel:
            timings["plan"].append(plan_s)
            timings["apply"].append(applied.seconds)
            timings["destroy"].append(time.perf_counter() - start)
        return applied.seconds

    comparison = compare_abba(lambda: cycle(serial), lambda: cycle(parallel), rounds=ROUNDS)
    costs = {}
    for env in ("dev", "staging", "prod"):
        outcome = parallel.plan(Target("aws", env), MOTO_VARIABLES)
        costs[env] = outcome.cost.total
    return {
        "apply_parallelism": {**comparison.as_dict(), "goal_speedup": 1.5,
                              "a_label": "-parallelism=1", "b_label": "-parallelism=10"},
        "dev_seconds": {name: summarize(values).as_dict() for name, values in timings.items()},
        "monthly_cost_usd": costs,
        "resources": parallel.plan(DEV, MOTO_VARIABLES).summary.counts["create"],
    }


def publish(results: dict[str, Any]) -> None:
    speedup = results["apply_parallelism"]["speedup"]
    a = results["apply_parallelism"]["a"]
    secs = results["dev_seconds"]
    rows = [
        [f"dev apply ({results['resources']} resources, moto), -parallelism=10 vs 1",
         f"{speedup['median']:.2f}x (range {speedup['ci_low']:.2f}-{speedup['ci_high']:.2f}, "
         f"n={speedup['n']} rounds; goal >= 1.5x)"],
        ["dev apply, -parallelism=1", f"{a['median']:.1f} s (n={a['n']})"],
        ["dev plan / apply / destroy, -parallelism=10",
         " / ".join(f"{secs[k]['median']:.1f} s" for k in ("plan", "apply", "destroy"))],
        *[[f"monthly cost, aws {env}", f"{cost:,.2f} USD (prices of 2026-11-01)"]
          for env, cost in results["monthly_cost_usd"].items()],
    ]
    write_results(HERE / "results.json", results_document(
        "102-02", results, notes="terraform 1.11 + hashicorp/aws 5.100 against moto on "
        "loopback; apply seconds are the apply command's own duration"))
    update_readme(README, markdown_table(["benchmark", "result"], rows))
    for row in rows:
        print(" | ".join(str(cell) for cell in row))


if __name__ == "__main__":
    main()
