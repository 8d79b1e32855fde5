"""`make bench`: the default suite, harness overhead and run-to-run variation on this machine.

Writes benchmarks/results.json, reports/bench/ (results + HTML report) and the README table
between the BENCH markers. Numbers depend on the machine and on its load at the time.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OVERHEAD_JOB = {"framework": "torch", "model": "cnn", "mode": "infer", "batch_size": 32}


def overhead_in_worker(rounds: int = 24, iterations: int = 10) -> dict[str, float]:
    """Run in a fresh process with torch: hand-written loop vs the harness.

    Rounds alternate A-B-B-A so that a slow drift in machine load hits both sides equally;
    the comparison uses the median per-iteration latency of each side (robust to the
    descheduled steps a shared machine produces). The harness's own per-iteration cost is
    also measured directly with a no-op step, and the monitor thread's cost per sample.
    """
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from mlbench.adapters import load_adapter
    from mlbench.models import make_batch, spec_for
    from mlbench.monitor import Monitor
    from mlbench.schema import Job
    from mlbench.timing import time_step

    adapter = load_adapter("torch")
    adapter.setup(1, "cpu")
    spec = spec_for("cnn", "small")
    job = Job(model_spec=spec.model_dump(), threads=1, jit=False,
              **OVERHEAD_JOB)  # type: ignore[arg-type]
    x, y = make_batch(spec, job.batch_size)
    wl = adapter.build(job, spec, x, y)
    for _ in range(5):
        wl.sync(wl.step())

    def manual() -> list[float]:
        lat = []
        for _ in range(iterations):  # what an engineer would write without a harness
            t0 = time.perf_counter()
            out = wl.step()
            wl.sync(out)
            lat.append(time.perf_counter() - t0)
        return lat

    def harness() -> list[float]:
        with Monitor():
            return time_step(wl.step, wl.sync, iterations)

    manual_lat: list[float] = []
    harness_lat: list[float] = []
    for i in range(rounds):
        first, second = (manual, harness) if i % 2 == 0 else (harness, manual)
        for fn in (first, second):
            (manual_lat if fn is manual else harness_lat).extend(fn())
    m, h = statistics.median(manual_lat), statistics.median(harness_lat)
    noop = time_step(lambda: None, lambda _o: None, 100000)
    mon = Monitor()
    t0 = time.perf_counter()
    for _ in range(2000):
        mon._sample()  # the work the monitor thread does every 50 ms
    sample_s = (time.perf_counter() - t0) / 2000
    return {"manual_ms": m * 1e3, "harness_ms": h * 1e3, "overhead_pct": (h - m) / m * 100,
            "noop_step_us": statistics.median(noop) * 1e6,
            "harness_cost_pct": statistics.median(noop) / m * 100,
            "monitor_sample_us": sample_s * 1e6,
            "monitor_cpu_pct": sample_s / 0.05 * 100}


def run_to_run_cv(runs: int = 5) -> dict[str, dict[str, float]]:
    """The same job in `runs` fresh worker processes per framework; CV of mean and median."""
    from mlbench.runner import run_jobs
    from mlbench.stats import coefficient_of_variation
    from mlbench.suite import expand, load_suite

    out: dict[str, dict[str, float]] = {}
    for fw in ("torch", "tensorflow", "jax"):
        suite = load_suite(None, {"frameworks": [fw], "models": ["cnn"], "modes": ["infer"],
                                  "batch_sizes": [32], "threads": [1], "iterations": 50})
        means: list[float] = []
        medians: list[float] = []
        for _ in range(runs):
            (r,) = run_jobs(expand(suite))
            if r.status != "ok" or r.latency is None:
                raise SystemExit(f"{fw}: {r.status}: {r.reason}")
            means.append(r.latency.mean)
            medians.append(r.latency.median)
        out[fw] = {"runs": runs, "mean_ms": statistics.fmean(means) * 1e3,
                   "cv_pct": coefficient_of_variation(means) * 100,
                   "median_ms": statistics.fmean(medians) * 1e3,
                   "cv_median_pct": coefficient_of_variation(medians) * 100}
    return out


def default_suite() -> dict[str, object]:
    out = ROOT / "reports" / "bench"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mlbench", "run", "--suite",
                           str(ROOT / "examples" / "default-suite.yaml"), "--out", str(out)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"default suite failed: {proc.stderr.strip()[-500:]}")
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
    return {"wall_s": time.perf_counter() - t0, "jobs": len(doc["results"]),
            "ok": len(rows), "rows": rows, "report": str(out.relative_to(ROOT) / "report.html")}


def readme_table(res: dict[str, object]) -> str:
    ov = res["overhead"]
    cv = res["run_to_run"]
    suite = res["default_suite"]
    assert isinstance(ov, dict) and isinstance(cv, dict) and isinstance(suite, dict)
    lines = [f"Measured {res['measured']} on {res['cpu']} ({res['cores']} cores, shared with "
             "other jobs: expect noise).", "",
             "| check | goal | measured |", "|---|---|---|",
             f"| harness vs hand-written loop, A/B (torch cnn infer bs32, 1 thread, medians) "
             f"| <= 1% | {ov['overhead_pct']:+.2f}% ({ov['manual_ms']:.3f} ms vs "
             f"{ov['harness_ms']:.3f} ms) |",
             f"| harness cost per iteration, direct (no-op step) / step time "
             f"| <= 1% | {ov['harness_cost_pct']:.4f}% ({ov['noop_step_us']:.2f} us) |",
             f"| monitor thread: one sample every 50 ms | - | {ov['monitor_sample_us']:.0f} us "
             f"per sample = {ov['monitor_cpu_pct']:.2f}% of one core |"]
    for fw, d in cv.items():
        lines.append(f"| run-to-run CV, {fw} cnn infer bs32, {d['runs']} fresh processes "
                     f"| <= 3% | mean: {d['cv_pct']:.2f}% ({d['mean_ms']:.3f} ms); median: "
                     f"{d['cv_median_pct']:.2f}% ({d['median_ms']:.3f} ms) |")
    lines += ["", f"Default suite: {suite['ok']}/{suite['jobs']} jobs ok in "
              f"{suite['wall_s']:.0f} s; report in `{suite['report']}`.", "",
              "| framework | model | mode/scenario | batch | median ms | CV % | samples/s |",
              "|---|---|---|---:|---:|---:|---:|"]
    for r in suite["rows"]:  # type: ignore[union-attr]
        lines.append(f"| {r['framework']} | {r['model']} | {r['what']} | {r['batch']} | "
                     f"{r['median_ms']:.3f} | {r['cv_pct']:.1f} | {r['throughput']:,.0f} |")
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:] == ["--overhead-worker"]:
        print(json.dumps(overhead_in_worker()))
        return 0
    from mlbench.envinfo import cpu_model

    print("1/3 harness overhead ...", flush=True)
    proc = subprocess.run([sys.executable, __file__, "--overhead-worker"], capture_output=True,
                          text=True, check=True, env={**__import__("os").environ,
                                                      "OMP_NUM_THREADS": "1"})
    overhead = json.loads(proc.stdout.strip().splitlines()[-1])
    print("2/3 run-to-run variation ...", flush=True)
    cv = run_to_run_cv()
    print("3/3 default suite ...", flush=True)
    suite = default_suite()
    import os

    res: dict[str, object] = {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu_model(),
        "cores": os.cpu_count(), "overhead": overhead, "run_to_run": cv,
        "default_suite": suite}
    (HERE / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    readme = ROOT / "README.md"
    text = readme.read_text()
    block = f"<!-- BENCH:START -->\n{readme_table(res)}\n<!-- BENCH:END -->"
    text = re.sub(r"<!-- BENCH:START -->.*<!-- BENCH:END -->", block, text, flags=re.S)
    readme.write_text(text)
    print(readme_table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
