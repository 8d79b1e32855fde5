"""Benchmarks for mlscaffold (`make bench`).

1. Generation time per template (validate answers + render + atomic write), median of 5.
2. The generated sklearn and pytorch services served by uvicorn on loopback: /predict latency
   p50/p99 and throughput at concurrency 1 and 16 (async httpx load generator), and for
   pytorch micro-batching on versus off.

Writes benchmarks/results.json and the table between the BENCH markers in README.md.
"""

from __future__ import annotations

import asyncio
import json
import platform
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from mlscaffold.generator import create, plan_new
from mlscaffold.serving import serve, sync_env, train_model
from mlscaffold.templates import load_templates

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = ROOT / ".bench"
REQUESTS = {1: 300, 16: 1200}
PAYLOADS = {"sklearn": {"features": [6.7, 3.1, 5.6, 2.4]},
            "pytorch": {"inputs": [[0.25] * 16]}}


def bench_generation() -> dict[str, float]:
    results = {}
    for name, template in load_templates().items():
        times = []
        for i in range(5):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                create(plan_new(template, {"project_name": f"b-{i}"}, Path(tmp) / f"b-{i}"))
                times.append(time.perf_counter() - start)
        results[name] = round(statistics.median(times) * 1000, 1)
    return results


async def _load(base: str, payload: dict[str, Any], concurrency: int, total: int
                ) -> dict[str, float]:
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
                start = time.perf_counter()
                response = await client.post("/predict", json=payload)
                latencies.append(time.perf_counter() - start)
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {"requests": total, "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
            "throughput_rps": round(total / elapsed, 1)}


def bench_service(template: str, variants: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    project_dir = WORK / template
    create(plan_new(load_templates()[template], {"project_name": f"bench-{template}"},
                    project_dir))
    sync_env(project_dir)
    model = train_model(project_dir, template)
    rows = []
    for variant, env in variants.items():
        with serve(project_dir, f"bench_{template}",
                   env={"APP_MODEL_PATH": str(model), "APP_LOG_LEVEL": "WARNING", **env}) as base:
            for concurrency, total in REQUESTS.items():
                stats = asyncio.run(_load(base, PAYLOADS[template], concurrency, total))
                rows.append({"service": template, "variant": variant,
                             "concurrency": concurrency, **stats})
                print(rows[-1], flush=True)
    return rows


def write_readme(results: dict[str, Any]) -> None:
    lines = ["| measurement | value |", "|---|---|"]
    for name, ms in results["generation_ms"].items():
        lines.append(f"| generate `{name}` (median of 5) | {ms} ms |")
    lines += ["", "| service | variant | concurrency | p50 ms | p99 ms | throughput req/s |",
              "|---|---|---|---|---|---|"]
    for row in results["serving"]:
        lines.append(f"| {row['service']} | {row['variant']} | {row['concurrency']} | "
                     f"{row['p50_ms']} | {row['p99_ms']} | {row['throughput_rps']} |")
    lines.append(f"\nMeasured {results['measured_at']} on {results['machine']}.")
    readme = ROOT / "README.md"
    text = readme.read_text()
    block = "<!-- BENCH:START -->\n" + "\n".join(lines) + "\n<!-- BENCH:END -->"
    text = re.sub(r"<!-- BENCH:START -->.*<!-- BENCH:END -->", lambda _m: block, text,
                  flags=re.S)
    readme.write_text(text)


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    try:
        results: dict[str, Any] = {
            "measured_at": time.strftime("%Y-%m-%d %H:%M"),
            "machine": f"{platform.machine()}, {platform.python_version()}, "
                       "2 shared CPU cores, no GPU (client and server on the same host)",
            "generation_ms": bench_generation(),
        }
        print("generation (ms):", results["generation_ms"], flush=True)
        results["serving"] = (
            bench_service("sklearn", {"default": {}})
            + bench_service("pytorch", {"micro-batching on": {"APP_MICRO_BATCHING": "true"},
                                        "micro-batching off": {"APP_MICRO_BATCHING": "false"}}))
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_readme(results)
    print(f"wrote {HERE / 'results.json'}")


if __name__ == "__main__":
    main()
