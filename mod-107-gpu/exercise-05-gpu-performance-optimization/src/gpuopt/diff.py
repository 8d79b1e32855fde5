"""`gpuopt diff A B`: two profiled runs compared per category and per op (HTA's trace diff idea).

Per op: self time per step (exclusive, from the trace) and call count per step, in A and B;
ops only in one run show as added or removed. Per category: the step-time split of each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from gpuopt.analyze import CATEGORIES, analyze_run, split_steps
from gpuopt.traces import LoadedRun, self_times


@dataclass
class RunDiff:
    categories: list[dict[str, Any]]
    ops: list[dict[str, Any]]
    step_a_s: float
    step_b_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"step_a_s": self.step_a_s, "step_b_s": self.step_b_s,
                "categories": self.categories, "ops": self.ops}


def op_table(loaded: LoadedRun) -> pd.DataFrame:
    """Self time (us) and calls per step for each op name."""
    events = loaded.events
    kind = "kernel" if loaded.has_gpu_kernels else "cpu_op"
    ops = events[events["cat"] == kind].copy()
    ops["self"] = self_times(events).reindex(ops.index).fillna(0.0)
    steps = max(1, len(split_steps(events)))
    grouped = ops.groupby("name").agg(self_us=("self", "sum"), calls=("self", "size"))
    return grouped / steps


def diff_runs(a: LoadedRun, b: LoadedRun, top: int = 15) -> RunDiff:
    # BEGIN SOLUTION
    analysis_a, analysis_b = analyze_run(a), analyze_run(b)
    categories = []
    for category in CATEGORIES:
        ms_a = analysis_a.shares[category] * analysis_a.mean_step_s * 1000
        ms_b = analysis_b.shares[category] * analysis_b.mean_step_s * 1000
        categories.append({"category": category, "a_ms": ms_a, "b_ms": ms_b,
                           "delta_ms": ms_b - ms_a})
    table_a, table_b = op_table(a), op_table(b)
    joined = table_a.join(table_b, how="outer", lsuffix="_a", rsuffix="_b")
    ops: list[dict[str, Any]] = []
    for name, row in joined.iterrows():
        in_a, in_b = not pd.isna(row["self_us_a"]), not pd.isna(row["self_us_b"])
        self_a = float(row["self_us_a"]) if in_a else 0.0
        self_b = float(row["self_us_b"]) if in_b else 0.0
        ops.append({"op": str(name), "a_us": self_a, "b_us": self_b, "delta_us": self_b - self_a,
                    "calls_a": float(row["calls_a"]) if in_a else 0.0,
                    "calls_b": float(row["calls_b"]) if in_b else 0.0,
                    "status": "same" if in_a and in_b else ("added" if in_b else "removed")})
    ops.sort(key=lambda o: abs(o["delta_us"]), reverse=True)
    return RunDiff(categories, ops[:top], analysis_a.mean_step_s, analysis_b.mean_step_s)
    # END SOLUTION
