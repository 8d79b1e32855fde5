"""Continuous batching vs batch size 1: same model (SmolLM2-135M), same load (concurrency 32).

Starts `llmserve serve` twice as real processes on loopback (max_num_seqs=32 and 1; both up
for the whole run, an idle engine sleeps on a condition variable), warms each up, then drives
them with `llmserve.bench` (BENCH_NUM_PROMPTS prompts, BENCH_MAX_TOKENS output tokens each,
ignore_eos) A-B-B-A at the level of whole load runs: `compare_abba` over BENCH_ROUNDS rounds of
batch-1 run, batched run, batched run, batch-1 run, each run timed as seconds per output
token, so the throughput ratio comes from interleaved runs and slow drifts of the shared
machine fall on both sides. Per-request TTFT / TPOT / E2E are pooled over all runs of a
setting. Writes benchmarks/results.json, benchmarks/bench-max_num_seqs-*.png (last run of each
setting) and the README table; statistics, results.json and the table come from
`aiinfra_shared.bench`.

Environment: BENCH_MODEL (default smollm2), BENCH_NUM_PROMPTS (32: one request per client),
BENCH_MAX_TOKENS (32), BENCH_ROUNDS (3), BENCH_CPU_THREADS (default 1: on this shared 2-core
machine two torch threads spin-wait against other processes and made every step several times
slower; measured, not assumed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiinfra_shared.bench import (
    Stats,
    compare_abba,
    markdown_table,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.procs.process import ServiceProcess

from llmserve import bench

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
MODEL = os.environ.get("BENCH_MODEL", "smollm2")
NUM_PROMPTS = int(os.environ.get("BENCH_NUM_PROMPTS", "32"))
MAX_TOKENS = int(os.environ.get("BENCH_MAX_TOKENS", "32"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
GOAL_RATIO = 8.0  # continuous batching vs batch size 1, output tokens/s (issue #35)
CONCURRENCY = 32
BATCHED = 32
SETTINGS = {BATCHED: f"continuous batching, max_num_seqs={BATCHED}",
            1: "batch size 1, max_num_seqs=1"}


def server(max_num_seqs: int, log_dir: Path) -> tuple[ServiceProcess, str]:
    port = free_port()
    env = {**os.environ, "LLMSERVE_MAX_NUM_SEQS": str(max_num_seqs),
           "LLMSERVE_MAX_QUEUE_SIZE": "256", "LLMSERVE_REQUEST_TIMEOUT_S": "3600",
           "LLMSERVE_CPU_THREADS": os.environ.get("BENCH_CPU_THREADS", "1")}
    exe = str(Path(sys.executable).parent / "llmserve")
    process = ServiceProcess(
        f"llmserve-{max_num_seqs}",
        [exe, "serve", "--model", MODEL, "--port", str(port), "--engine", "transformers",
         "--device", "cpu"],
        log_dir / f"serve-{max_num_seqs}.log", env=env,
        ready_http=f"http://127.0.0.1:{port}/health", timeout=600)
    return process, f"http://127.0.0.1:{port}"


def start_all(stack: contextlib.ExitStack, log_dir: Path) -> dict[int, str]:
    """Start both servers at once (loading the model is mostly single-threaded)."""
    made = {n: server(n, log_dir) for n in SETTINGS}
    for process, _ in made.values():
        stack.callback(process.stop)
    with ThreadPoolExecutor(len(made)) as pool:
        for future in [pool.submit(process.start) for process, _ in made.values()]:
            future.result()
    return {n: base for n, (_, base) in made.items()}


def _model_id(base: str) -> str:
    import httpx

    return str(httpx.get(f"{base}/v1/models", timeout=10).json()["data"][0]["id"])


class Setting:
    """One server; each call of `run` is one whole load run, timed per output token."""

    def __init__(self, max_num_seqs: int, base: str) -> None:
        self.max_num_seqs = max_num_seqs
        self.model = _model_id(base)
        self.config = bench.BenchConfig(base_url=base, model=self.model,
                                        prompts=bench.DEFAULT_PROMPTS, num_prompts=NUM_PROMPTS,
                                        max_tokens=MAX_TOKENS, concurrency=CONCURRENCY)
        self.results: list[bench.RequestResult] = []
        self.summaries: list[dict[str, Any]] = []
        self.last: list[bench.RequestResult] = []
        asyncio.run(bench.run_benchmark(bench.BenchConfig(
            base_url=base, model=self.model, prompts=bench.DEFAULT_PROMPTS, num_prompts=2,
            max_tokens=4, concurrency=2)))  # warm-up

    def run(self) -> float:
        results, duration = asyncio.run(bench.run_benchmark(self.config))
        summary = bench.summarise(results, duration, self.config)
        if summary["failed"]:
            sys.exit(f"max_num_seqs={self.max_num_seqs}: {summary['failed']} failed requests: "
                     f"{summary['errors']}")
        self.results += results
        self.summaries.append(summary)
        self.last = results
        print(f"max_num_seqs={self.max_num_seqs}: {summary['output_throughput']:.1f} tok/s "
              f"in {duration:.1f} s", flush=True)
        return float(duration / summary["total_output_tokens"])

    def per_request(self) -> dict[str, Stats]:
        ok = [r for r in self.results if r.ok]
        return {"ttft": summarize([r.ttft * 1000 for r in ok], unit="ms"),
                "tpot": summarize([r.tpot * 1000 for r in ok if r.output_tokens > 1],
                                  unit="ms"),
                "e2e": summarize([r.e2e * 1000 for r in ok], unit="ms")}


def p95(stats: Stats) -> float:
    ordered = sorted(stats.samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        servers = start_all(stack, Path(tmp))
        settings = {n: Setting(n, base) for n, base in servers.items()}
        print(f"servers up and warm after {time.perf_counter() - began:.0f} s", flush=True)
        abba = compare_abba(settings[1].run, settings[BATCHED].run, rounds=ROUNDS)
    ratio = abba.speedup
    throughput = {BATCHED: summarize([1 / s for s in abba.b.samples], unit="tok/s"),
                  1: summarize([1 / s for s in abba.a.samples], unit="tok/s")}
    model = settings[BATCHED].model
    for n, setting in settings.items():
        bench.plot(setting.last, HERE / f"bench-max_num_seqs-{n}.png",
                   f"{model}, max_num_seqs={n}, concurrency {CONCURRENCY}")
    benchmarks: dict[str, Any] = {
        "throughput_ratio_continuous_vs_batch1": {
            **ratio.as_dict(3),
            "goal": ">= 8x (issue #35)",
            "met": ratio.median >= GOAL_RATIO,
            "method": f"A-B-B-A over whole load runs, {ROUNDS} rounds, per-round "
                      "mean(batch-1 s/token) / mean(batched s/token)"},
    }
    rows: list[list[object]] = []
    for n, label in SETTINGS.items():
        lat = settings[n].per_request()
        key = "continuous_batching" if n == BATCHED else "batch_size_1"
        benchmarks[f"{key}_output_throughput"] = throughput[n].as_dict(2)
        for name, stats in lat.items():
            benchmarks[f"{key}_{name}"] = {**stats.as_dict(1), "p95": round(p95(stats), 1)}
        benchmarks[f"{key}_runs"] = {"runs": [
            {k: s[k] for k in ("completed", "failed", "duration_s", "output_throughput",
                               "request_throughput")} for s in settings[n].summaries]}
        rows += [
            [f"{label}: output throughput", throughput[n].format(".1f"), "-", "-"],
            [f"{label}: TTFT per request (p95 {p95(lat['ttft']):.0f} ms)",
             lat["ttft"].format(".0f"), "-", "-"],
            [f"{label}: TPOT per request", lat["tpot"].format(".0f"), "-", "-"],
            [f"{label}: E2E per request", lat["e2e"].format(".0f"), "-", "-"],
        ]
    met = ratio.median >= GOAL_RATIO
    rows.append(["throughput ratio, continuous / batch 1 (A-B-B-A whole runs)",
                 ratio.format(".2f"), ">= 8x", "yes" if met else "**no**"])
    elapsed = time.perf_counter() - began
    notes = (f"{model} on CPU, concurrency {CONCURRENCY}, {NUM_PROMPTS} prompts x {MAX_TOKENS} "
             f"tokens (ignore_eos) per run, {2 * ROUNDS} runs per setting interleaved A-B-B-A, "
             f"cpu_threads={os.environ.get('BENCH_CPU_THREADS', '1')}. Wall time of the run "
             f"(including two server starts): {elapsed:.0f} s.")
    write_results(HERE / "results.json", results_document("110-01", benchmarks, notes))
    table = markdown_table(["benchmark", "result", "goal", "met"], rows)
    update_readme(README, table)
    print(table)
    print(f"wrote {HERE / 'results.json'} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
