"""Continuous batching vs batch size 1: same model (SmolLM2-135M), same load (concurrency 16).

Starts `llmserve serve` twice as real processes on loopback (max_num_seqs=16, then 1),
drives each with `llmserve.bench` (32 prompts, 32 output tokens each, ignore_eos), and
writes benchmarks/results.json, benchmarks/bench.png and the README table.
Environment: BENCH_MODEL (default smollm2), BENCH_NUM_PROMPTS, BENCH_MAX_TOKENS,
BENCH_CPU_THREADS (default 1: on this shared 2-core machine two torch threads spin-wait
against other processes and made every step several times slower; measured, not assumed).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json, atomic_write_text
from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.procs.process import ServiceProcess

from llmserve import bench

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
MODEL = os.environ.get("BENCH_MODEL", "smollm2")
NUM_PROMPTS = int(os.environ.get("BENCH_NUM_PROMPTS", "32"))
MAX_TOKENS = int(os.environ.get("BENCH_MAX_TOKENS", "32"))
CONCURRENCY = 16


def run_one(max_num_seqs: int, log_dir: Path) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "LLMSERVE_MAX_NUM_SEQS": str(max_num_seqs),
           "LLMSERVE_MAX_QUEUE_SIZE": "256", "LLMSERVE_REQUEST_TIMEOUT_S": "3600",
           "LLMSERVE_CPU_THREADS": os.environ.get("BENCH_CPU_THREADS", "1")}
    exe = str(Path(sys.executable).parent / "llmserve")
    with ServiceProcess(f"llmserve-{max_num_seqs}",
                        [exe, "serve", "--model", MODEL, "--port", str(port),
                         "--engine", "transformers", "--device", "cpu"],
                        log_dir / f"serve-{max_num_seqs}.log", env=env,
                        ready_http=f"http://127.0.0.1:{port}/health", timeout=600):
        base = f"http://127.0.0.1:{port}"
        model = _model_id(base)
        config = bench.BenchConfig(base_url=base, model=model, prompts=bench.DEFAULT_PROMPTS,
                                   num_prompts=NUM_PROMPTS, max_tokens=MAX_TOKENS,
                                   concurrency=CONCURRENCY)
        asyncio.run(bench.run_benchmark(bench.BenchConfig(
            base_url=base, model=model, prompts=bench.DEFAULT_PROMPTS, num_prompts=2,
            max_tokens=4, concurrency=2)))  # warm-up
        results, duration = asyncio.run(bench.run_benchmark(config))
        summary = bench.summarise(results, duration, config)
        bench.plot(results, HERE / f"bench-max_num_seqs-{max_num_seqs}.png",
                   f"{model}, max_num_seqs={max_num_seqs}, concurrency {CONCURRENCY}")
        return summary


def _model_id(base: str) -> str:
    import httpx

    return str(httpx.get(f"{base}/v1/models", timeout=10).json()["data"][0]["id"])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        batched = run_one(16, Path(tmp))
        single = run_one(1, Path(tmp))
    for name, data in (("batched", batched), ("batch 1", single)):
        if data["failed"]:
            sys.exit(f"{name} run had {data['failed']} failed requests: {data['errors']}")
    ratio = batched["output_throughput"] / single["output_throughput"]
    results = {"model": MODEL, "concurrency": CONCURRENCY, "num_prompts": NUM_PROMPTS,
               "max_tokens": MAX_TOKENS, "cpu_count": os.cpu_count(),
               "throughput_ratio_continuous_vs_batch1": ratio,
               "continuous_batching": batched, "batch_size_1": single}
    atomic_write_json(HERE / "results.json", results)
    rows = [
        "| engine setting | output tok/s | req/s | TTFT p50 / p95 (ms) | TPOT p50 (ms) "
        "| E2E p50 (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for name, data in (("continuous batching, max_num_seqs=16", batched),
                       ("batch size 1, max_num_seqs=1", single)):
        rows.append(f"| {name} | {data['output_throughput']:.1f} | "
                    f"{data['request_throughput']:.2f} | {data['ttft_ms']['p50']:.0f} / "
                    f"{data['ttft_ms']['p95']:.0f} | {data['tpot_ms']['p50']:.0f} | "
                    f"{data['e2e_ms']['p50']:.0f} |")
    rows.append(f"\nThroughput ratio (continuous / batch 1): **{ratio:.2f}x** "
                f"({MODEL}, concurrency {CONCURRENCY}, {NUM_PROMPTS} prompts x {MAX_TOKENS} "
                f"tokens, CPU, {os.cpu_count()} cores, one run).")
    table = "\n".join(rows)
    text = README.read_text()
    text = re.sub(r"<!-- bench:start -->.*<!-- bench:end -->",
                  f"<!-- bench:start -->\n{table}\n<!-- bench:end -->", text, flags=re.S)
    atomic_write_text(README, text)
    print(table)


if __name__ == "__main__":
    main()
