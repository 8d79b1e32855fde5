"""Benchmarks for obsstack; writes benchmarks/results.json and the README's benchmark table.

1. Per-request overhead of the instrumentation: the model service (FastAPI + scikit-learn
   inference) called in process over ASGI (no network to hide the cost) in three builds:
   none (no metrics, traces or logs), metrics (RED metrics with exemplars), full (metrics +
   traces exported over OTLP/HTTP to a real oteltap receiver + JSON log lines). Each round
   sends BENCH_REQUESTS requests to each build in the order none, metrics, full, full,
   metrics, none (so drifts of the machine fall on all builds) and takes the p50 latency per
   build; the goal is judged on the per-round ratio p50(full) / p50(none) (<= 1.3x).
2. Shipper throughput with `_bulk` batches of 1 vs 500 lines into the Elasticsearch API
   (noida-db): BENCH_SMALL_LINES lines at batch size 1, BENCH_BIG_LINES at 500, a fresh index
   and state per run, alternated over BENCH_ROUNDS rounds; goal: >= 20x lines/s.

Statistics (medians, distribution-free CIs), results.json and the README table come from
`aiinfra_shared.bench`. Knobs: BENCH_ROUNDS (5), BENCH_REQUESTS (300), BENCH_SMALL_LINES
(1000), BENCH_BIG_LINES (20000).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiinfra_shared.bench import (
    markdown_table,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.cli import progress_bar
from aiinfra_shared.procs.ports import free_port
from aiinfra_shared.procs.services import start_elasticsearch

from obsstack.config import Settings, ShipperSettings
from obsstack.services import create_app, feature_vector
from obsstack.ship import ElasticsearchSink, Shipper

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("BENCH_OUT", HERE / "results.json"))
README = Path(os.environ.get("BENCH_README", HERE.parent / "README.md"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
SMALL_LINES = int(os.environ.get("BENCH_SMALL_LINES", "1000"))
BIG_LINES = int(os.environ.get("BENCH_BIG_LINES", "20000"))
BUILDS = ("none", "metrics", "full")


def _apps(work: Path, otlp_endpoint: str) -> dict[str, Any]:
    base = {"log_dir": work / "logs", "otlp_endpoint": otlp_endpoint}
    return {
        "none": create_app("model", Settings.load(None, **base, metrics=False, traces=False,
                                                  logs=False)),
        "metrics": create_app("model", Settings.load(None, **base, traces=False, logs=False)),
        "full": create_app("model", Settings.load(None, **base)),
    }


async def _latencies(app: Any, n: int) -> list[float]:
    transport = httpx.ASGITransport(app=app)
    body = {"features": feature_vector("bench-user")}
    out = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(n):
            start = time.perf_counter()
            response = await client.post("/predict", json=body)
            out.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"benchmark request failed: {response.status_code}")
    return out


_RECEIVER = """
import sys, time
from aiinfra_shared.procs.otlp import OtlpReceiver
receiver = OtlpReceiver(int(sys.argv[1])).start()
print("ready", flush=True)
sys.stdin.read()
time.sleep(1.0)
print(len(receiver.spans), flush=True)
receiver.stop()
"""


def bench_overhead(work: Path) -> dict[str, Any]:
    # The receiver decodes spans in Python: in its own process, so it does not compete with
    # the measured app for the GIL (as a collector would not).
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", _RECEIVER, str(port)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert receiver.stdout is not None and receiver.stdin is not None
    if receiver.stdout.readline().strip() != "ready":
        raise RuntimeError("the OTLP receiver did not start")
    try:
        apps = _apps(work, f"http://127.0.0.1:{port}")
        for app in apps.values():  # warm up (model training happened in create_app)
            asyncio.run(_latencies(app, 30))
        p50: dict[str, list[float]] = {b: [] for b in BUILDS}
        ratios_full, ratios_metrics = [], []
        with progress_bar("overhead rounds", total=ROUNDS) as advance:
            for _ in range(ROUNDS):
                samples: dict[str, list[float]] = {b: [] for b in BUILDS}
                for build in (*BUILDS, *reversed(BUILDS)):
                    samples[build] += asyncio.run(_latencies(apps[build], REQUESTS // 2))
                medians = {b: statistics.median(v) for b, v in samples.items()}
                for build in BUILDS:
                    p50[build].append(medians[build] * 1e6)
                ratios_full.append(medians["full"] / medians["none"])
                ratios_metrics.append(medians["metrics"] / medians["none"])
                advance(1)
        provider = apps["full"].state.tracer_provider
        provider.force_flush(10_000)
        provider.shutdown()
        out, _ = receiver.communicate("", timeout=60)
        received = int(out.strip().splitlines()[-1])
    finally:
        if receiver.poll() is None:
            receiver.kill()
    return {
        "p50_us": {b: summarize(v, unit="us").as_dict() for b, v in p50.items()},
        "ratio_full": summarize(ratios_full, unit="x").as_dict(),
        "ratio_metrics": summarize(ratios_metrics, unit="x").as_dict(),
        "spans_received": received, "requests_per_build_per_round": REQUESTS, "goal": "<= 1.3x",
    }


def _chain_latencies(url: str, n: int) -> list[float]:
    out = []
    with httpx.Client(timeout=10) as client:
        for i in range(n):
            start = time.perf_counter()
            response = client.post(f"{url}/predict", json={"entity_id": f"u{i % 50}"})
            out.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"chain request failed: {response.status_code}")
    return out


def bench_chain(work: Path) -> dict[str, Any]:
    """gateway -> features -> model as processes over loopback HTTP: none vs full."""
    from obsstack.stack import service_env, start_services

    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", _RECEIVER, str(port)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert receiver.stdout is not None
    receiver.stdout.readline()
    processes = []
    urls = {}
    try:
        for build, flags in (("none", {"OBSSTACK_METRICS": "false", "OBSSTACK_TRACES": "false",
                                       "OBSSTACK_LOGS": "false"}), ("full", {})):
            ports = {r: free_port() for r in ("gateway", "features", "model")}
            env = service_env(ports, work / f"chain-{build}", f"http://127.0.0.1:{port}", flags)
            processes += start_services(work / f"chain-{build}", ports, env)
            urls[build] = f"http://127.0.0.1:{ports['gateway']}"
        for url in urls.values():
            _chain_latencies(url, 20)
        p50: dict[str, list[float]] = {"none": [], "full": []}
        ratios = []
        with progress_bar("chain rounds", total=ROUNDS) as advance:
            for _ in range(ROUNDS):
                samples: dict[str, list[float]] = {"none": [], "full": []}
                for build in ("none", "full", "full", "none"):
                    samples[build] += _chain_latencies(urls[build], REQUESTS // 4)
                medians = {b: statistics.median(v) for b, v in samples.items()}
                for build in medians:
                    p50[build].append(medians[build] * 1e6)
                ratios.append(medians["full"] / medians["none"])
                advance(1)
    finally:
        for process in processes:
            process.stop()
        receiver.kill()
    return {"p50_us": {b: summarize(v, unit="us").as_dict() for b, v in p50.items()},
            "ratio_full": summarize(ratios, unit="x").as_dict(), "goal": "<= 1.3x"}


def _ship(es_url: str, work: Path, lines: int, batch: int) -> float:
    run = work / f"ship-{uuid.uuid4().hex[:8]}"
    run.mkdir()
    log = run / "bench.log"
    with log.open("w") as handle:
        for i in range(lines):
            handle.write(json.dumps({"@timestamp": "2026-12-01T10:00:00.000Z",
                                     "level": "info", "service": "model",
                                     "message": f"line {i}", "trace_id": f"{i:032x}",
                                     "span_id": f"{i:016x}"}) + "\n")
    shipper = Shipper([log], ElasticsearchSink(es_url), f"bench{uuid.uuid4().hex[:8]}",
                      ShipperSettings(state_dir=run / "state", batch_size=batch,
                                      flush_interval_s=0.01))
    start = time.perf_counter()
    stats = shipper.run(once=True)
    elapsed = time.perf_counter() - start
    if stats.indexed != lines:
        raise RuntimeError(f"shipped {stats.indexed} of {lines} lines")
    return lines / elapsed


def bench_shipper(work: Path) -> dict[str, Any]:
    es = start_elasticsearch(work / "es")
    try:
        small: list[float] = []
        big: list[float] = []
        with progress_bar("shipper rounds", total=ROUNDS) as advance:
            for r in range(ROUNDS):
                order = [(1, SMALL_LINES, small), (500, BIG_LINES, big)]
                for batch, lines, sink in (order if r % 2 == 0 else order[::-1]):
                    sink.append(_ship(es.url, work, lines, batch))
                advance(1)
    finally:
        es.stop()
    ratios = [b / s for s, b in zip(small, big, strict=True)]
    return {"batch_1_lines_per_s": summarize(small, unit="lines/s").as_dict(),
            "batch_500_lines_per_s": summarize(big, unit="lines/s").as_dict(),
            "ratio": summarize(ratios, unit="x").as_dict(), "goal": ">= 20x",
            "lines": {"batch_1": SMALL_LINES, "batch_500": BIG_LINES}}


def _fmt(d: dict[str, Any], fmt: str = ".3g") -> str:
    label = f"{d['confidence'] * 100:.0f}% CI"
    unit = d["unit"] if d["unit"] == "x" else f" {d['unit']}"
    return (f"{d['median']:{fmt}}{unit} ({label} {d['ci_low']:{fmt}}-{d['ci_high']:{fmt}}, "
            f"n={d['n']})")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="obsstack-bench-") as tmp:
        work = Path(tmp)
        overhead = bench_overhead(work)
        chain = bench_chain(work)
        shipper = bench_shipper(work)
    full, ship_ratio = overhead["ratio_full"], shipper["ratio"]
    chain_ratio = chain["ratio_full"]
    rows = [
        ["p50 of a prediction, gateway -> features -> model processes, no instrumentation",
         _fmt(chain["p50_us"]["none"]), "-", "-"],
        ["... with metrics + traces + logs in all three", _fmt(chain["p50_us"]["full"]),
         "-", "-"],
        ["full / none p50 over the 3-process chain, same rounds", _fmt(chain_ratio),
         "<= 1.3x", "yes" if chain_ratio["median"] <= 1.3 else "no"],
        ["p50 per request, no instrumentation (model service in process, ASGI)",
         _fmt(overhead["p50_us"]["none"]), "-", "-"],
        ["... RED metrics with exemplars", _fmt(overhead["p50_us"]["metrics"]), "-", "-"],
        ["... metrics + traces (OTLP to oteltap) + JSON logs",
         _fmt(overhead["p50_us"]["full"]), "-", "-"],
        ["full / none p50 in process (worst case: no network in the baseline)", _fmt(full),
         "(<= 1.3x)", "yes" if full["median"] <= 1.3 else "no"],
        ["metrics / none p50, same rounds", _fmt(overhead["ratio_metrics"]), "-", "-"],
        ["shipper, `_bulk` of 1 line", _fmt(shipper["batch_1_lines_per_s"]), "-", "-"],
        ["shipper, `_bulk` of 500 lines", _fmt(shipper["batch_500_lines_per_s"]), "-", "-"],
        ["bulk 500 / bulk 1 throughput", _fmt(ship_ratio), ">= 20x",
         "yes" if ship_ratio["median"] >= 20 else "no"],
    ]
    payload = results_document("108-01", {"overhead_in_process": overhead,
                                          "overhead_chain": chain, "shipper": shipper},
                               notes=f"rounds={ROUNDS} requests={REQUESTS} "
                                     f"small={SMALL_LINES} big={BIG_LINES}")
    write_results(OUT, payload)
    update_readme(README, markdown_table(["benchmark", "result", "goal", "met"], rows))
    print(markdown_table(["benchmark", "result", "goal", "met"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
