"""`make bench`: harness overhead, run-to-run variation and the default suite on this machine.

1. Overhead (in a fresh process with torch, 1 thread): the same PyTorch step timed by a
   hand-written `perf_counter` loop and by the harness (`time_step` under the monitor thread),
   A-B-B-A over BENCH_OVERHEAD_ROUNDS rounds (`compare_abba`; each block returns the median
   per-iteration latency of its 10 iterations); plus the harness's cost measured directly ON
   THAT REAL STEP: in REPEATS blocks of 50 timed iterations under the monitor thread, the
   share of the block's wall time spent outside the timed regions (timer calls, bookkeeping,
   the loop itself), which does not depend on other tenants' load the way the A/B ratio does;
   the no-op step's cost and the monitor thread's cost per sample for reference.
2. Run-to-run variation: the same job in BENCH_RUNS fresh worker processes per framework; the
   coefficient of variation (mlbench's own `coefficient_of_variation`) of the per-run mean and
   median latency.
3. The default suite (`mlbench run`, BENCH_SUITE, default examples/default-suite.yaml), whose
   numbers are mlbench's own statistics, into reports/bench/ (results + HTML report).

Statistics of repeated measurements, results.json and the README table come from
`aiinfra_shared.bench`. Knobs: BENCH_OVERHEAD_ROUNDS (default 12), BENCH_RUNS (default 5),
BENCH_SUITE (default examples/default-suite.yaml). Numbers depend on the machine and its load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    Stats,
    markdown_table,
    measure,
    results_document,
    summarize,
    update_readme,
    write_results,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OVERHEAD_JOB = {"framework": "torch", "model": "cnn", "mode": "infer", "batch_size": 32}
# The harness checks (overhead, run-to-run CV) time a fixed small CNN, the default preset of
# earlier versions (3x3 stem, two width-16 blocks, 32x32 images, 9,898 parameters): a real
# model step of a few ms, comparable across versions, and hundreds of repetitions stay
# affordable. The default suite (step 3) runs the realistic models.
HARNESS_CNN: dict[str, Any] = {"image_size": 32, "widths": [16], "blocks": 2,
                               "stem_kernel": 3, "stem_stride": 1, "stem_pool": False}
OVERHEAD_ROUNDS = int(os.environ.get("BENCH_OVERHEAD_ROUNDS", "12"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SUITE = Path(os.environ.get("BENCH_SUITE", str(ROOT / "examples" / "default-suite.yaml")))
GOAL_OVERHEAD = 0.01  # harness <= 1% slower than a hand-written loop
GOAL_CV = 0.03  # run-to-run CV of the per-run mean latency <= 3%
MONITOR_PERIOD_S = 0.05  # the monitor thread samples every 50 ms
REPEATS = 7  # repeated blocks for the no-op step and the monitor sample


def overhead_in_worker(iterations: int = 10) -> dict[str, Any]:
    """Run in a fresh process with torch: hand-written loop vs the harness (raw samples)."""
    import statistics

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from aiinfra_shared.bench import compare_abba

    from mlbench.adapters import load_adapter
    from mlbench.models import make_batch, spec_for
    from mlbench.monitor import Monitor
    from mlbench.schema import Job
    from mlbench.timing import time_step

    adapter = load_adapter("torch")
    adapter.setup(1, "cpu")
    spec = spec_for("cnn", "small", HARNESS_CNN)
    job = Job(model_spec=spec.model_dump(), threads=1, jit=False,
              **OVERHEAD_JOB)  # type: ignore[arg-type]
    x, y = make_batch(spec, job.batch_size)
    wl = adapter.build(job, spec, x, y)
    for _ in range(5):
        wl.sync(wl.step())

    def manual() -> float:
        lat = []
        for _ in range(iterations):  # what an engineer would write without a harness
            t0 = time.perf_counter()
            out = wl.step()
            wl.sync(out)
            lat.append(time.perf_counter() - t0)
        return statistics.median(lat)

    def harness() -> float:
        with Monitor():
            return statistics.median(time_step(wl.step, wl.sync, iterations))

    comparison = compare_abba(harness, manual, rounds=OVERHEAD_ROUNDS)
    outside: list[float] = []  # harness time around a real step, as a share of the block
    for _ in range(REPEATS):
        with Monitor():
            t0 = time.perf_counter()
            timed = time_step(wl.step, wl.sync, 50, 0)
            wall = time.perf_counter() - t0
        outside.append((wall - sum(timed)) / wall)
    noop = [statistics.median(time_step(lambda: None, lambda _o: None, 20000))
            for _ in range(REPEATS)]
    mon = Monitor()
    per_block = 500

    def samples() -> None:
        for _ in range(per_block):
            mon._sample()  # the work the monitor thread does every 50 ms

    sample = measure(samples, runs=REPEATS)
    return {"harness_s": list(comparison.a.samples), "manual_s": list(comparison.b.samples),
            "ratio": list(comparison.speedup.samples), "noop_step_s": noop,
            "outside_share": outside,
            "monitor_sample_s": [t / per_block for t in sample.samples]}


def overhead() -> dict[str, Stats]:
    proc = subprocess.run([sys.executable, __file__, "--overhead-worker"], capture_output=True,
                          text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    manual = summarize([t * 1e3 for t in raw["manual_s"]], unit="ms")
    return {
        "manual": manual,
        "harness": summarize([t * 1e3 for t in raw["harness_s"]], unit="ms"),
        "ratio": summarize(raw["ratio"], unit="x"),  # per round: harness / manual
        "noop_step": summarize([t * 1e6 for t in raw["noop_step_s"]], unit="us"),
        "harness_cost": summarize([t * 1e3 / manual.median * 100 for t in raw["noop_step_s"]],
                                  unit="%"),
        "real_step_cost": summarize([s * 100 for s in raw["outside_share"]], unit="%"),
        "monitor_sample": summarize([t * 1e6 for t in raw["monitor_sample_s"]], unit="us"),
        "monitor_cpu": summarize([t / MONITOR_PERIOD_S * 100 for t in raw["monitor_sample_s"]],
                                 unit="%"),
    }


def run_to_run_cv() -> dict[str, dict[str, Any]]:
    """The same job in RUNS fresh worker processes per framework; CV of mean and median."""
    from mlbench.runner import run_jobs
    from mlbench.stats import coefficient_of_variation
    from mlbench.suite import expand, load_suite

    out: dict[str, dict[str, Any]] = {}
    for fw in ("torch", "tensorflow", "jax"):
        suite = load_suite(None, {"frameworks": [fw], "models": {"cnn": HARNESS_CNN},
                                  "modes": ["infer"],
                                  "batch_sizes": [32], "threads": [1], "iterations": 50})
        means: list[float] = []
        medians: list[float] = []
        for _ in range(RUNS):
            (r,) = run_jobs(expand(suite))
            if r.status != "ok" or r.latency is None:
                raise SystemExit(f"{fw}: {r.status}: {r.reason}")
            means.append(r.latency.mean)
            medians.append(r.latency.median)
        out[fw] = {"cv_mean": coefficient_of_variation(means),
                   "cv_median": coefficient_of_variation(medians),
                   "mean_latency": summarize([m * 1e3 for m in means], unit="ms"),
                   "median_latency": summarize([m * 1e3 for m in medians], unit="ms")}
        print(f"  {fw}: CV of means {out[fw]['cv_mean']:.2%}", flush=True)
    return out


def default_suite() -> dict[str, Any]:
    out = ROOT / "reports" / "bench"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mlbench", "run", "--suite", str(SUITE),
                           "--out", str(out)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"suite failed: {proc.stderr.strip()[-500:]}")
    doc = json.loads((out / "results.json").read_text())
    rows = []
    for r in doc["results"]:
        if r["status"] != "ok":
            continue
        j = r["job"]
        rows.append({"framework": j["framework"], "model": j["model"],
                     "what": j["scenario"] or j["mode"], "batch": j["batch_size"],
                     "median_ms": r["latency"]["median"] * 1e3,
                     "cv_pct": r["latency"]["cv"] * 100, "throughput": r["throughput"],
                     "params": r["param_count"], "peak_rss_mb": r["memory"]["peak_rss_mb"],
                     "target_met": (r.get("scenario") or {}).get("target_met")})
    return {"suite": str(SUITE.relative_to(ROOT)) if SUITE.is_relative_to(ROOT) else str(SUITE),
            "wall_s": round(time.perf_counter() - t0, 1), "jobs": len(doc["results"]),
            "ok": len(rows), "rows": rows, "report": str(out.relative_to(ROOT) / "report.html")}


def yes(met: bool) -> str:
    return "yes" if met else "**no**"


def readme_table(ov: dict[str, Stats], cv: dict[str, dict[str, Any]],
                 suite: dict[str, Any]) -> str:
    rows: list[list[object]] = [
        ["harness / hand-written loop time, A-B-B-A (torch cnn infer bs32, 1 thread)",
         f"{ov['ratio'].format('.4f')}; loop {ov['manual'].format()}, "
         f"harness {ov['harness'].format()}",
         f"<= {1 + GOAL_OVERHEAD:.2f}x", yes(ov["ratio"].median <= 1 + GOAL_OVERHEAD)],
        ["harness cost on the real step (torch cnn infer bs32): wall time outside the timed "
         "regions / block wall time, 50 iterations under the monitor",
         ov["real_step_cost"].format(".2g"), f"<= {GOAL_OVERHEAD:.0%}",
         yes(ov["real_step_cost"].median <= GOAL_OVERHEAD * 100)],
        ["for reference: no-op step cost / step time",
         f"{ov['harness_cost'].format('.2g')}; no-op step {ov['noop_step'].format()}",
         "-", "-"],
        ["monitor thread: one sample every 50 ms",
         f"{ov['monitor_sample'].format()} per sample = {ov['monitor_cpu'].format('.2g')} "
         "of one core", "-", "-"],
    ]
    for fw, d in cv.items():
        rows.append([f"run-to-run CV, {fw} cnn infer bs32, {RUNS} fresh processes",
                     f"CV of means {d['cv_mean']:.2%}, of medians {d['cv_median']:.2%}; "
                     f"median latency {d['median_latency'].format()}",
                     f"<= {GOAL_CV:.0%} (CV of means)", yes(d["cv_mean"] <= GOAL_CV)])
    suite_rows = [[r["framework"], r["model"], r["what"], r["batch"], f"{r['median_ms']:.3f}",
                   f"{r['cv_pct']:.1f}", f"{r['throughput']:,.0f}"] for r in suite["rows"]]
    return "\n".join([
        markdown_table(["check", "result", "goal", "met"], rows), "",
        f"Suite `{suite['suite']}`: {suite['ok']}/{suite['jobs']} jobs ok in "
        f"{suite['wall_s']:.0f} s; report in `{suite['report']}` (mlbench's own statistics: "
        "median and CV of the per-iteration latencies of one run).", "",
        markdown_table(["framework", "model", "mode/scenario", "batch", "median ms", "CV %",
                        "samples/s"], suite_rows)])


def main() -> int:
    if sys.argv[1:] == ["--overhead-worker"]:
        print(json.dumps(overhead_in_worker()))
        return 0
    began = time.perf_counter()
    print("1/3 harness overhead ...", flush=True)
    ov = overhead()
    print("2/3 run-to-run variation ...", flush=True)
    cv = run_to_run_cv()
    print("3/3 suite ...", flush=True)
    suite = default_suite()
    ratio = ov["ratio"]
    benchmarks: dict[str, Any] = {
        "harness_overhead": {
            "job": OVERHEAD_JOB, "rounds": OVERHEAD_ROUNDS,
            "ratio_harness_over_loop": ratio.as_dict(5),
            "loop_block_median": ov["manual"].as_dict(4),
            "harness_block_median": ov["harness"].as_dict(4),
            "goal": f"ratio <= {1 + GOAL_OVERHEAD:.2f}",
            "met": ratio.median <= 1 + GOAL_OVERHEAD},
        "harness_cost_real_step": {
            "pct_of_wall_outside_timed_regions": ov["real_step_cost"].as_dict(5),
            "iterations_per_block": 50, "goal": f"<= {GOAL_OVERHEAD:.0%}",
            "met": ov["real_step_cost"].median <= GOAL_OVERHEAD * 100},
        "harness_cost_noop_reference": {
            "noop_step": ov["noop_step"].as_dict(4), "pct_of_step": ov["harness_cost"].as_dict(6)},
        "monitor_sample": {"per_sample": ov["monitor_sample"].as_dict(2),
                           "pct_of_one_core": ov["monitor_cpu"].as_dict(4)},
        **{f"run_to_run_{fw}": {
            "runs": RUNS, "cv_mean_pct": round(d["cv_mean"] * 100, 3),
            "cv_median_pct": round(d["cv_median"] * 100, 3),
            "mean_latency": d["mean_latency"].as_dict(4),
            "median_latency": d["median_latency"].as_dict(4),
            "goal": f"cv_mean <= {GOAL_CV:.0%}", "met": d["cv_mean"] <= GOAL_CV}
           for fw, d in cv.items()},
        "suite": suite,
    }
    notes = (f"Overhead: {OVERHEAD_ROUNDS} A-B-B-A rounds; run-to-run: {RUNS} fresh processes "
             f"per framework; suite {suite['suite']}. Wall time of the run: "
             f"{time.perf_counter() - began:.0f} s.")
    write_results(HERE / "results.json", results_document("101-05", benchmarks, notes))
    table = readme_table(ov, cv, suite)
    update_readme(ROOT / "README.md", table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
