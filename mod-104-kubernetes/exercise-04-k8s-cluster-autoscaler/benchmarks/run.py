"""Benchmarks for autoscale; writes benchmarks/results.json and the README's table.

1. Per policy on the shipped spike and diurnal traces (3 days, the first 2 unscored warm-up):
   SLO-violation minutes, dropped requests and cost. Simulations are deterministic (seeded),
   so each is run once; the numbers are exact for this code and these inputs.
2. Headline: predictive (Holt-Winters) vs hpa-cpu violation minutes on the spike trace, with
   the cost ratio (goal: <= 0.5x the violations at <= +10 % cost).
3. Simulator speed: simulated hours per second of wall time for hpa-cpu (reactive) and
   predictive (includes the hourly Holt-Winters refits) on the 72-hour spike trace,
   BENCH_RUNS runs after one warm-up (median and 95 % CI via aiinfra_shared.bench).
Knobs: BENCH_RUNS (5).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    markdown_table,
    measure,
    results_document,
    summarize,
    update_readme,
    write_results,
)

from autoscale import clusterfile, policyfile, simulator, traces

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "results.json"
README = ROOT / "README.md"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
POLICIES = ("hpa-cpu", "hpa-rps", "keda", "predictive", "predictive-naive", "vpa",
            "hpa-cpu@karpenter", "predictive@karpenter")
WARMUP = 2 * 86400.0


def main() -> int:
    policy = policyfile.load(ROOT / "examples" / "policy.yaml")
    spec = clusterfile.load(ROOT / "examples" / "cluster.yaml")
    loaded = {name: traces.load(ROOT / "examples" / "traces" / f"{name}.csv")
              for name in ("spike", "diurnal")}
    benchmarks: dict[str, Any] = {}
    rows: list[list[str]] = []
    per: dict[tuple[str, str], simulator.Result] = {}
    for trace_name, trace in loaded.items():
        for name in POLICIES:
            print(f"simulating {name} on {trace_name}", file=sys.stderr)
            result = simulator.simulate(trace, name, policy, spec, WARMUP)
            per[(trace_name, name)] = result
            benchmarks[f"{trace_name}/{name}"] = result.as_dict()
            rows.append([f"{trace_name}: {name}", f"{result.violation_minutes:.1f} min SLO "
                         f"violation, {result.dropped_ratio * 100:.2f} % dropped, "
                         f"${result.cost:.2f}", "-", "-"])
    headline_rows = []
    for trace_name in loaded:
        ahead, reactive = per[(trace_name, "predictive")], per[(trace_name, "hpa-cpu")]
        violations = ahead.violation_minutes / reactive.violation_minutes \
            if reactive.violation_minutes else (0.0 if not ahead.violation_minutes else 99.0)
        cost = ahead.cost / reactive.cost
        met = violations <= 0.5 and cost <= 1.10
        benchmarks[f"{trace_name}/predictive_vs_hpa_cpu"] = {
            "violation_ratio": round(violations, 4), "cost_ratio": round(cost, 4),
            "goal": "violation_ratio <= 0.5 at cost_ratio <= 1.10", "met": met}
        headline_rows.append([
            f"{trace_name}: predictive vs hpa-cpu SLO-violation minutes (cost ratio)",
            f"{violations:.2f}x ({ahead.violation_minutes:.1f} vs "
            f"{reactive.violation_minutes:.1f} min), cost {cost:.3f}x",
            "<= 0.5x at <= 1.10x cost" if trace_name == "spike" else "-",
            ("yes" if met else "no") if trace_name == "spike" else
            ("(no violations to halve)" if not reactive.violation_minutes else
             ("yes" if met else "no"))])
    spike = loaded["spike"]
    hours = spike.duration / 3600
    speed_rows = []
    for name in ("hpa-cpu", "predictive"):
        print(f"timing {name} ({RUNS} runs)", file=sys.stderr)
        timing = measure(lambda n=name: simulator.simulate(spike, n, policy, spec, WARMUP),
                         runs=RUNS, warmup=1)
        rate = summarize([hours / s for s in timing.samples], unit="h/s")
        benchmarks[f"speed/{name}"] = {"wall": timing.as_dict(),
                                       "simulated_hours_per_second": rate.as_dict(),
                                       "goal": ">= 1000 h/s", "met": rate.median >= 1000}
        speed_rows.append([f"simulated hours per second ({name}, 72 h spike trace)",
                           rate.format(".3g"), ">= 1,000 h/s",
                           "yes" if rate.median >= 1000 else "no"])
    notes = ("Simulations are deterministic (seeded spot interruptions, fixed traces): one run "
             "each. Speed runs are medians of BENCH_RUNS runs on a shared 2-core machine.")
    write_results(OUT, results_document("104-04", benchmarks, notes))
    table = markdown_table(["benchmark", "result", "goal", "met"],
                           headline_rows + speed_rows + rows)
    update_readme(README, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
