"""Benchmarks for mlscaffold (`make bench`).

1. Generation time per template (validate answers + render + atomic write, `--no-lock`):
   BENCH_RUNS timed runs after one warm-up; and once more with `uv lock` (the default of
   `mlscaffold new`, resolved from uv's cache).
2. The generated sklearn and pytorch services served by uvicorn on loopback: /predict latency
   p50/p99 and throughput at concurrency 1, 8 and 32 (async httpx load generator). Each
   number is the median (95% CI) over repeated load bursts of BENCH_REQUESTS_C1 / _C8 / _C32
   requests (20 untimed warm-up requests before each burst).
   - sklearn: BENCH_RUNS bursts per concurrency.
   - pytorch, generated with input_dim=BENCH_INPUT_DIM (512) and hidden_dim=BENCH_HIDDEN_DIM
     (8192), 4.2 M parameters, so one forward pass costs about as much as the HTTP handling
     of a request (~1.5 ms for one row, ~7 ms for 32 here), as for a small production
     model; the template's default 64-wide toy makes the forward pass nearly free, and then
     there is nothing for batching to save. Trained for 2 epochs only (the weights' values
     do not change the cost);
     adaptive micro-batching on and off run side by side (two servers) and are compared
     A-B-B-A (`compare_abba`, BENCH_ROUNDS rounds, 4 bursts a round): the ratio is
     throughput(on) / throughput(off) per round, > 1 means micro-batching is faster.

Statistics, results.json and the README table come from `aiinfra_shared.bench`.
Knobs: BENCH_RUNS (default 7), BENCH_ROUNDS (default 5), BENCH_REQUESTS_C1 (default 100),
BENCH_REQUESTS_C8 and BENCH_REQUESTS_C32 (default 400), BENCH_INPUT_DIM (default 512),
BENCH_HIDDEN_DIM (default 8192).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from aiinfra_shared.bench import (
    Stats,
    compare_abba,
    markdown_table,
    measure,
    results_document,
    summarize,
    update_readme,
    write_results,
)

from mlscaffold.generator import create, plan_new
from mlscaffold.serving import serve, sync_env, train_model
from mlscaffold.templates import load_templates

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = ROOT / ".bench"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
REQUESTS = {1: int(os.environ.get("BENCH_REQUESTS_C1", "100")),
            8: int(os.environ.get("BENCH_REQUESTS_C8", "400")),
            32: int(os.environ.get("BENCH_REQUESTS_C32", "400"))}
INPUT_DIM = int(os.environ.get("BENCH_INPUT_DIM", "512"))
HIDDEN_DIM = int(os.environ.get("BENCH_HIDDEN_DIM", "8192"))
PAYLOADS: dict[str, dict[str, Any]] = {"sklearn": {"features": [6.7, 3.1, 5.6, 2.4]},
                                       "pytorch": {"inputs": [[0.25] * INPUT_DIM]}}
ON, OFF = "micro-batching on", "micro-batching off"
TRANSPORT_RETRIES = [0]  # requests retried after a dropped keep-alive connection


def bench_generation() -> dict[str, Stats]:
    results = {}
    counter = itertools.count()
    for name, template in load_templates().items():
        for lock in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                def generate(template: Any = template, tmp: str = tmp, lock: bool = lock) -> None:
                    i = next(counter)
                    create(plan_new(template, {"project_name": f"b-{i}"}, Path(tmp) / f"b-{i}"),
                           lock=lock)

                key = f"{name}_with_uv_lock" if lock else name
                results[key] = measure(generate, runs=RUNS if not lock else 3, warmup=1)
    return results


async def _burst(base: str, payload: dict[str, Any], concurrency: int, total: int
                 ) -> tuple[list[float], float]:
    """One load burst: (sorted latencies, elapsed seconds without the warm-up)."""
    latencies: list[float] = []
    remaining = total
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        for _ in range(20):  # warm-up
            (await client.post("/predict", json=payload)).raise_for_status()

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                for attempt in range(3):
                    start = time.perf_counter()
                    try:
                        response = await client.post("/predict", json=payload)
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        # A keep-alive connection the server closed as it was reused (a
                        # client/server race under load): retried, counted, not timed.
                        TRANSPORT_RETRIES[0] += 1
                        if attempt == 2:
                            raise
                        continue
                    latencies.append(time.perf_counter() - start)
                    response.raise_for_status()
                    break

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return sorted(latencies), elapsed


class Load:
    """Bursts against one server; keeps each burst's p50, p99 and throughput."""

    def __init__(self, base: str, template: str, concurrency: int) -> None:
        self.base, self.payload, self.concurrency = base, PAYLOADS[template], concurrency
        self.total = REQUESTS[concurrency]
        self.p50: list[float] = []
        self.p99: list[float] = []
        self.rps: list[float] = []

    def __call__(self) -> float:
        latencies, elapsed = asyncio.run(_burst(self.base, self.payload, self.concurrency,
                                                self.total))
        self.p50.append(latencies[len(latencies) // 2] * 1000)
        self.p99.append(latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000)
        self.rps.append(self.total / elapsed)
        return elapsed

    def summary(self) -> dict[str, Stats]:
        return {"p50": summarize(self.p50, unit="ms"), "p99": summarize(self.p99, unit="ms"),
                "throughput": summarize(self.rps, unit="req/s")}


def prepare(template: str, **answers: Any) -> tuple[Path, Path]:
    project_dir = WORK / template
    create(plan_new(load_templates()[template], {"project_name": f"bench-{template}",
                                                 **answers}, project_dir))
    sync_env(project_dir)
    if template != "pytorch":
        return project_dir, train_model(project_dir, template)
    model = project_dir / "models" / "model.pt"
    subprocess.run([str(project_dir / ".venv/bin/python"), "-c",
                    "import sys; from pathlib import Path; from bench_pytorch.training import "
                    "train; train(Path(sys.argv[1]), epochs=2)", str(model)],
                   cwd=project_dir, check=True, capture_output=True, timeout=600)
    return project_dir, model


def serve_variant(stack: ExitStack, project: tuple[Path, Path], template: str, name: str,
                  env: dict[str, str]) -> str:
    project_dir, model = project
    slug = name.replace(" ", "-")
    return stack.enter_context(serve(
        project_dir, f"bench_{template}", log_path=project_dir / f"uvicorn-{slug}.log",
        env={"APP_MODEL_PATH": str(model), "APP_LOG_LEVEL": "WARNING", **env}))


def bench_sklearn() -> dict[int, dict[str, Stats]]:
    results = {}
    with ExitStack() as stack:
        base = serve_variant(stack, prepare("sklearn"), "sklearn", "default", {})
        for concurrency in REQUESTS:
            load = Load(base, "sklearn", concurrency)
            for _ in range(RUNS):
                load()
            results[concurrency] = load.summary()
            print("sklearn", concurrency, {k: v.format() for k, v in results[concurrency].items()},
                  flush=True)
    return results


def bench_pytorch() -> dict[int, dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {}
    project = prepare("pytorch", input_dim=INPUT_DIM, hidden_dim=HIDDEN_DIM)
    with ExitStack() as stack:
        bases = {ON: serve_variant(stack, project, "pytorch", ON, {"APP_MICRO_BATCHING": "true"}),
                 OFF: serve_variant(stack, project, "pytorch", OFF,
                                    {"APP_MICRO_BATCHING": "false"})}
        for concurrency in REQUESTS:
            loads = {v: Load(bases[v], "pytorch", concurrency) for v in (ON, OFF)}
            off: Callable[[], float] = loads[OFF]
            on: Callable[[], float] = loads[ON]
            comparison = compare_abba(off, on, rounds=ROUNDS)
            results[concurrency] = {v: loads[v].summary() for v in (ON, OFF)}
            results[concurrency]["speedup"] = comparison.speedup
            print("pytorch", concurrency, "on/off throughput",
                  comparison.speedup.format(".2f"), flush=True)
    return results


def _entry(stats: dict[str, Stats]) -> dict[str, Any]:
    return {key: value.as_dict(2) for key, value in stats.items()}


def main() -> None:
    began = time.perf_counter()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    try:
        generation = bench_generation()
        print("generation:", {k: v.format() for k, v in generation.items()}, flush=True)
        sklearn = bench_sklearn()
        pytorch = bench_pytorch()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)

    benchmarks: dict[str, Any] = {
        f"generate_{name}": stats.as_dict(4) for name, stats in generation.items()}
    rows: list[list[object]] = [
        [f"generate `{name.removesuffix('_with_uv_lock')}`"
         + (" + `uv lock`" if name.endswith("_with_uv_lock") else " (`--no-lock`)"),
         stats.format(), "-", "-"] for name, stats in generation.items()]
    serving_rows: list[list[object]] = []
    for concurrency, stats in sklearn.items():
        benchmarks[f"serve_sklearn_c{concurrency}"] = {
            "requests_per_burst": REQUESTS[concurrency], **_entry(stats)}
        serving_rows.append(["sklearn", "default", concurrency, stats["p50"].format(),
                             stats["p99"].format(), stats["throughput"].format()])
    for concurrency, by_variant in pytorch.items():
        for variant in (ON, OFF):
            stats = by_variant[variant]
            key = "on" if variant == ON else "off"
            benchmarks[f"serve_pytorch_batching_{key}_c{concurrency}"] = {
                "requests_per_burst": REQUESTS[concurrency], **_entry(stats)}
            serving_rows.append([f"pytorch ({INPUT_DIM}x{HIDDEN_DIM})", variant, concurrency,
                                 stats["p50"].format(),
                                 stats["p99"].format(), stats["throughput"].format()])
        speedup: Stats = by_variant["speedup"]
        benchmarks[f"pytorch_batching_on_vs_off_c{concurrency}"] = {
            **speedup.as_dict(3), "ratio": "throughput(on) / throughput(off)",
            "method": f"A-B-B-A, {ROUNDS} rounds"}
        rows.append([f"pytorch ({INPUT_DIM}x{HIDDEN_DIM}) throughput, adaptive micro-batching on / "
                     f"off, concurrency {concurrency} (A-B-B-A)", speedup.format(".2f"),
                     "-", "-"])
    notes = ("Client and server share the same loaded CPU cores, no GPU. Serving numbers are "
             "the median over load bursts (see requests_per_burst). Requests retried after a "
             f"dropped keep-alive connection: {TRANSPORT_RETRIES[0]}. Wall time of the run: "
             f"{time.perf_counter() - began:.0f} s.")
    write_results(HERE / "results.json", results_document("101-06", benchmarks, notes))
    table = (markdown_table(["benchmark", "result", "goal", "met"], rows) + "\n\n"
             + markdown_table(["service", "variant", "concurrency", "p50 latency",
                               "p99 latency", "throughput"], serving_rows))
    update_readme(ROOT / "README.md", table)
    print(table)
    print(f"wrote {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
