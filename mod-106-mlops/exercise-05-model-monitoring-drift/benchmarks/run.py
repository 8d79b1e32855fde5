"""Benchmarks for driftwatch; writes benchmarks/results.json and the README's benchmark table.

1. seconds per window of BENCH_ROWS (10k) rows x 20 columns (16 numerical, 4 categorical):
   Evidently's DataDriftPreset (K-S / chi-square per column, its tests included) against the
   own vectorised statistics on the stored reference profile (K-S + chi-square, BH, floors),
   interleaved A-B-B-A over BENCH_RUNS rounds; goal: own >= 10x faster
2. CBPE mean absolute error of estimated vs realised accuracy over 20 windows of 2,000 rows
   (quiet, covariate and prior drift mixed); goal <= 0.02
3. smallest mean shift (in standard deviations, on one of the 20 columns) that each method
   flags in at least 4 of 5 seeded windows of n=1000 rows (reference 2,000 rows)

Statistics, results.json and the README table come from `aiinfra_shared.bench`.
Knobs: BENCH_RUNS (5), BENCH_ROWS (10000), BENCH_SEEDS (5).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from aiinfra_shared.bench import (
    compare_abba,
    markdown_table,
    results_document,
    update_readme,
    write_results,
)

from driftwatch.analysis import AnalysisOptions, column_scores
from driftwatch.multivariate import domain_classifier, encode, mmd_test
from driftwatch.performance import cbpe, realized_metrics
from driftwatch.reference import ReferenceProfile, build_reference
from driftwatch.simulate import Drift, Simulator, wide_features
from driftwatch.stats import decide_columns

HERE = Path(__file__).resolve().parent
OUT = HERE / "results.json"
README = HERE.parent / "README.md"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
ROWS = int(os.environ.get("BENCH_ROWS", "10000"))
SEEDS = int(os.environ.get("BENCH_SEEDS", "5"))
SPEEDUP_GOAL = 10.0
CBPE_GOAL = 0.02
SHIFTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0)


def _ids(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    frame = frame.copy()
    frame.insert(0, "timestamp", pd.Timestamp("2026-01-01", tz="UTC"))
    frame.insert(0, "prediction_id", [f"{prefix}{i}" for i in range(len(frame))])
    return frame


def _wide(seed: int) -> Simulator:
    return Simulator(features=wide_features(), seed=seed)


def _profile(rows: int, seed: int = 1) -> ReferenceProfile:
    sim = _wide(seed)
    return build_reference(_ids(sim.sample(rows), "r"), sim.contract())


def _evidently_drift(window: pd.DataFrame, profile: ReferenceProfile,
                     method: str | None = "ks") -> set[str]:
    """Columns Evidently's DataDriftPreset calls drifted (method None = its own default)."""
    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    contract = profile.contract
    columns = [contract.id_column, *contract.features]
    definition = contract.data_definition(with_classification=False)
    definition.numerical_columns = list(contract.numerical)
    report = Report([DataDriftPreset(columns=list(contract.features), num_method=method,
                                     cat_method="chisquare" if method else None)],
                    include_tests=True)
    snapshot = report.run(Dataset.from_pandas(window[columns], data_definition=definition),
                          Dataset.from_pandas(profile.data[columns], data_definition=definition))
    drifted = set()
    for test in snapshot.dict()["tests"]:
        name = test.get("name", "")
        if name.startswith("Value Drift for column ") and "FAIL" in str(test.get("status")):
            drifted.add(name.removeprefix("Value Drift for column "))
    return drifted


def _own_drift(window: pd.DataFrame, profile: ReferenceProfile,
               options: AnalysisOptions) -> set[str]:
    decided = decide_columns(column_scores(window, profile, options), options.thresholds)
    return {c.column for c in decided if c.drifted}


def bench_window_speed() -> dict[str, Any]:
    profile = _profile(ROWS)
    window = _ids(_wide(2).sample(ROWS, Drift("covariate", 0.3, ("x0", "x1"))), "w")
    options = AnalysisOptions()
    _evidently_drift(window, profile)  # warm-up: imports, first-call caches
    _own_drift(window, profile, options)
    def evidently() -> None:
        _evidently_drift(window, profile)

    def own() -> None:
        _own_drift(window, profile, options)

    comparison = compare_abba(evidently, own, rounds=RUNS)
    return {"evidently_s": comparison.a, "own_s": comparison.b,
            "speedup": comparison.speedup}


def bench_cbpe() -> dict[str, Any]:
    profile = build_reference(_ids(Simulator(seed=3).sample(5000), "r"),
                              Simulator().contract())
    drifts = [None, Drift("covariate", 0.5, ("income", "credit_score")), Drift("prior", 0.6),
              Drift("covariate", 0.8, ("balance",)), Drift("prior", 0.35)]
    errors = []
    for i in range(20):
        frame = Simulator(seed=100 + i).sample(2000, drifts[i % len(drifts)])
        estimate = cbpe(frame["probability"].to_numpy(), profile.calibration)["accuracy"]
        truth = realized_metrics(frame["label"].to_numpy(), frame["probability"].to_numpy())
        errors.append(abs(estimate - truth["accuracy"]))
    return {"mae": float(np.mean(errors)), "max": float(np.max(errors)), "windows": 20}


def bench_sensitivity() -> dict[str, float | None]:
    """Smallest shift (of SHIFTS) flagged in >= 80% of seeds, per method (None: none)."""
    profile = _profile(2000)
    options = AnalysisOptions()
    ref_x, names = encode(profile.data, profile)

    def own(method: str) -> Callable[[pd.DataFrame], bool]:
        opts = AnalysisOptions(numerical_method=method)
        return lambda w: "x0" in _own_drift(w, profile, opts)

    def classifier(w: pd.DataFrame) -> bool:
        return domain_classifier(ref_x, encode(w, profile)[0], names,
                                 options.auc_threshold).drifted

    def mmd(w: pd.DataFrame) -> bool:
        return mmd_test(ref_x, encode(w, profile)[0], permutations=200).drifted

    methods: dict[str, Callable[[pd.DataFrame], bool]] = {
        "K-S (own, BH + floor)": own("ks"), "PSI >= 0.1 (own)": own("psi"),
        "Wasserstein >= 0.1 (own)": own("wasserstein"),
        "Evidently DataDriftPreset (K-S)": lambda w: "x0" in _evidently_drift(w, profile),
        "domain classifier AUC >= 0.55": classifier, "MMD permutation test": mmd,
    }
    smallest: dict[str, float | None] = {}
    windows = {(shift, seed): _ids(_wide(1000 + seed).sample(1000, Drift("covariate", shift,
                                                                          ("x0",))), "w")
               for shift in SHIFTS for seed in range(SEEDS)}
    for name, detects in methods.items():
        smallest[name] = None
        for shift in SHIFTS:
            hits = sum(detects(windows[(shift, seed)]) for seed in range(SEEDS))
            if hits >= 0.8 * SEEDS:
                smallest[name] = shift
                break
    return smallest


def main() -> int:
    began = time.perf_counter()
    speed = bench_window_speed()
    cbpe_result = bench_cbpe()
    sensitivity = bench_sensitivity()
    elapsed = time.perf_counter() - began
    speedup = speed["speedup"]
    speed_met = speedup.median >= SPEEDUP_GOAL
    cbpe_met = cbpe_result["mae"] <= CBPE_GOAL
    benchmarks = {
        "window_drift_seconds": {
            "rows": ROWS, "columns": 20, "evidently": speed["evidently_s"].as_dict(),
            "own": speed["own_s"].as_dict(), "speedup": speedup.as_dict(),
            "goal_speedup": SPEEDUP_GOAL, "met": speed_met},
        "cbpe_accuracy_mae": {**cbpe_result, "goal": CBPE_GOAL, "met": cbpe_met},
        "smallest_detected_mean_shift_sd": {"n": 1000, "reference_rows": 2000, "seeds": SEEDS,
                                            "detection_rate": 0.8, "shifts": list(SHIFTS),
                                            "by_method": sensitivity},
    }
    notes = (f"{elapsed:.0f} s in all; DataDriftPreset with include_tests (K-S numerical, "
             "chi-square categorical) vs driftwatch.analysis.column_scores + decide_columns")
    write_results(OUT, results_document("106-05", benchmarks, notes))

    def yes_no(flag: bool) -> str:
        return "yes" if flag else "no"

    rows = [
        [f"drift per window, {ROWS:,} rows x 20 columns: Evidently DataDriftPreset",
         speed["evidently_s"].format(), "-", "-"],
        ["... own vectorised statistics (K-S, chi-square, BH, floors)",
         speed["own_s"].format(), "-", "-"],
        ["... own speedup over Evidently (A-B-B-A)", speedup.format(),
         f">= {SPEEDUP_GOAL:g}x", yes_no(speed_met)],
        ["CBPE mean absolute error vs realised accuracy (20 windows x 2,000 rows)",
         f"{cbpe_result['mae']:.4f} (max {cbpe_result['max']:.4f})", f"<= {CBPE_GOAL}",
         yes_no(cbpe_met)],
    ]
    for name, shift in sensitivity.items():
        rows.append([f"smallest mean shift detected at n=1000: {name}",
                     "not within 1.0 sd" if shift is None else f"{shift:g} sd", "-", "-"])
    update_readme(README, markdown_table(["benchmark", "result", "goal", "met"], rows))
    for row in rows:
        print(f"{row[0]}: {row[1]} (goal {row[2]}, met: {row[3]})")
    print(f"wrote {OUT} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
