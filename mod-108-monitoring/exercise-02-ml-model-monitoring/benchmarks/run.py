"""Benchmarks for modelmon; writes benchmarks/results.json and the README's benchmark table.

1. instrumentation overhead per request, measured against an uninstrumented handler in the
   same run: the same tiny prediction app called in-process (HTTP and the network excluded)
   with full instrumentation (middleware + `tag_request` + `observe_prediction` with five
   features) and without any; A-B-B-A over BENCH_RUNS rounds of BENCH_REQUESTS requests per
   app, fresh app and registry each time; reported as the per-round difference (us, the goal)
   and the per-round ratio instrumented / uninstrumented (x), so machine load cancels out.
   For reference also the metric calls alone (BENCH_RUNS batches of BENCH_CALLS calls after
   one warm-up batch, median of the per-batch means)
2. exporter window step at BENCH_PREDICTIONS predictions x 20 features, half labelled: a full
   window takes BENCH_STEP_ROWS new predictions (half of them labelled), as many old ones
   leave, then `compute`; the incremental windows (after) against `incremental=False`, which
   rebuilds every window from its rows like the exporter did before (before), A-B-B-A over
   BENCH_WINDOW_RUNS rounds in the same run; ingest timed per 10,000-prediction chunk
3. series count under a cardinality attack: BENCH_PREDICTIONS distinct model/class/feature
   values (deterministic counts, not timed)

Statistics, results.json and the README table come from `aiinfra_shared.bench`.
Knobs: BENCH_RUNS (11), BENCH_CALLS (5000), BENCH_REQUESTS (5000), BENCH_PREDICTIONS (100000),
BENCH_WINDOW_RUNS (9), BENCH_STEP_ROWS (1000).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
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
from aiinfra_shared.cli import progress_bar
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from modelmon.instrument import CardinalityGuard, ModelMetrics, PrometheusMiddleware, tag_request
from modelmon.predlog import LabelRecord, PredictionRecord
from modelmon.reference import parse_reference
from modelmon.window import ModelWindows

HERE = Path(__file__).resolve().parent
OUT = HERE / "results.json"
README = HERE.parent / "README.md"

RUNS = int(os.environ.get("BENCH_RUNS", "11"))
CALLS = int(os.environ.get("BENCH_CALLS", "5000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "5000"))
PREDICTIONS = int(os.environ.get("BENCH_PREDICTIONS", "100000"))
WINDOW_RUNS = int(os.environ.get("BENCH_WINDOW_RUNS", "9"))
STEP_ROWS = int(os.environ.get("BENCH_STEP_ROWS", "1000"))
FEATURES = 20
CHUNK = 10_000
OVERHEAD_GOAL_US = 50.0
WINDOW_GOAL_S = 1.0
STEP_SPEEDUP_GOAL = 10.0
GUARD_MAX_VALUES = 20
ROW = {f"f{i}": 0.1 * i for i in range(5)}  # the five features of one prediction


def per_call_us(stats: Stats, n: int) -> Stats:
    """Batch times in seconds -> microseconds per call."""
    return summarize([s / n * 1e6 for s in stats.samples], unit="us")


def bench_metric_calls() -> Stats:
    metrics = ModelMetrics(guard=CardinalityGuard({"model": {"churn"}}))

    def batch() -> None:
        for _ in range(CALLS):
            metrics.observe_request("churn", "v1", "/models/{model}/predict", 0.004, "success")
            metrics.observe_prediction("churn", "v1", 1, 0.87, ROW)

    return per_call_us(measure(batch, runs=RUNS, warmup=1), CALLS)


def _asgi_app(instrumented: bool) -> Any:
    """The same prediction handler with full instrumentation or with none."""
    metrics = ModelMetrics(guard=CardinalityGuard({"model": {"churn"}}))

    async def predict(request: Request) -> PlainTextResponse:
        if instrumented:
            tag_request(request, "churn", "v1")
            metrics.observe_prediction("churn", "v1", 1, 0.87, ROW)
        return PlainTextResponse("1")

    app = Starlette(routes=[Route("/models/{model}/predict", predict, methods=["POST"])])
    if instrumented:
        metrics.register_model("churn", "v1", routes=["/models/{model}/predict"])
        app.add_middleware(PrometheusMiddleware, metrics=metrics,
                           default_model="churn", default_version="v1")
    return app


async def _drive(app: Any, n: int) -> float:
    """Seconds for `n` in-process requests after 200 untimed ones."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/models/churn/predict",
             "raw_path": b"/models/churn/predict", "query_string": b"", "root_path": "",
             "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    for _ in range(200):  # warm-up
        await app(dict(scope), receive, send)
    started = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return time.perf_counter() - started


def bench_instrumentation() -> dict[str, Stats]:
    """A = instrumented, B = uninstrumented, interleaved A-B-B-A in the same run; overhead =
    per-round difference, ratio = per-round mean(A) / mean(B)."""
    abba = compare_abba(lambda: asyncio.run(_drive(_asgi_app(True), REQUESTS)),
                        lambda: asyncio.run(_drive(_asgi_app(False), REQUESTS)), rounds=RUNS)
    instrumented = per_call_us(abba.a, REQUESTS)
    plain = per_call_us(abba.b, REQUESTS)
    a, b = instrumented.samples, plain.samples
    overhead = summarize([(a[i] + a[i + 1]) / 2 - (b[i] + b[i + 1]) / 2
                          for i in range(0, len(a), 2)], unit="us")
    return {"plain": plain, "instrumented": instrumented, "overhead": overhead,
            "slowdown": abba.speedup}


def bench_window() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(FEATURES)]
    reference = parse_reference({
        "model": "m", "features": {name: {"sample": rng.standard_normal(2000).tolist(),
                                          "low": -6, "high": 6} for name in names},
        "prediction_sample": rng.random(2000).tolist(), "baseline": {"accuracy": 0.9}})
    rows = rng.standard_normal((PREDICTIONS, FEATURES)) + 0.3
    scores = rng.random(PREDICTIONS)
    labels = rng.random(PREDICTIONS) > 0.5

    def record(i: int) -> PredictionRecord:
        j = i % PREDICTIONS
        return PredictionRecord(f"p{i}", 1.0, "m", "v1",
                                dict(zip(names, rows[j].tolist(), strict=True)),
                                float(scores[j] > 0.5), float(scores[j]))

    def fill(windows: ModelWindows, timed: list[float] | None) -> None:
        with progress_bar("filling a window", total=PREDICTIONS) as advance:
            for start in range(0, PREDICTIONS, CHUNK):
                stop = min(start + CHUNK, PREDICTIONS)
                batch = [record(i) for i in range(start, stop)]
                began = time.perf_counter()
                for i, prediction in zip(range(start, stop), batch, strict=True):
                    windows.add_prediction(prediction)
                    if i % 2 == 0:
                        windows.add_label(LabelRecord(f"p{i}", 2.0, float(labels[i])))
                if timed is not None:
                    timed.append((time.perf_counter() - began) / (stop - start) * 1e6)
                advance(stop - start)
        [result] = windows.compute(now=3.0)  # folds the whole window in once (untimed)
        assert result.predictions == PREDICTIONS and result.labelled == (PREDICTIONS + 1) // 2

    chunk_us: list[float] = []
    after = ModelWindows({"m": reference}, window_seconds=1e9, max_size=PREDICTIONS,
                         min_samples=50, min_labels=20)
    before = ModelWindows({"m": reference}, window_seconds=1e9, max_size=PREDICTIONS,
                          min_samples=50, min_labels=20, incremental=False)
    fill(after, chunk_us)
    fill(before, None)

    def step(windows: ModelWindows) -> Any:
        next_id = [PREDICTIONS]

        def run() -> float:
            first = next_id[0]
            next_id[0] += STEP_ROWS
            batch = [record(i) for i in range(first, first + STEP_ROWS)]
            outcomes = [LabelRecord(f"p{i}", 2.0, float(labels[i % PREDICTIONS]))
                        for i in range(first, first + STEP_ROWS, 2)]
            began = time.perf_counter()
            for prediction in batch:
                windows.add_prediction(prediction)
            for outcome in outcomes:
                windows.add_label(outcome, 2.0)
            [result] = windows.compute(now=3.0)
            elapsed = time.perf_counter() - began
            assert result.predictions == PREDICTIONS
            return elapsed
        return run

    abba = compare_abba(step(before), step(after), rounds=WINDOW_RUNS)
    # both windows hold the same rows now: the incremental numbers equal the rebuilt ones
    [fast], [slow] = after.compute(now=3.0), before.compute(now=3.0)
    assert fast.features == slow.features and fast.labelled == slow.labelled
    return {"before": abba.a, "after": abba.b, "speedup": abba.speedup,
            "ingest": summarize(chunk_us, unit="us")}


def _series(registry: CollectorRegistry) -> int:
    return sum(len(metric.samples) for metric in registry.collect())


def bench_cardinality() -> dict[str, int]:
    metrics = ModelMetrics(guard=CardinalityGuard(max_values=GUARD_MAX_VALUES))
    metrics.observe_request("churn", "v1", "/p", 0.01, "success")
    metrics.observe_prediction("churn", "v1", 1, 0.9, {"f0": 1.0})
    before = _series(metrics.registry)
    after_1k = 0
    for i in range(PREDICTIONS):
        metrics.observe_request(f"attack-{i}", f"v{i}", f"/r{i}", 0.01, "client_error")
        metrics.observe_prediction(f"attack-{i}", "v1", f"c{i}", 0.9, {f"x{i}": 1.0})
        if i == 999:
            after_1k = _series(metrics.registry)
    return {"distinct_values_sent": PREDICTIONS, "max_values_per_label": GUARD_MAX_VALUES,
            "series_before": before, "series_after_1k": after_1k,
            "series_after": _series(metrics.registry)}


def yes_no(met: bool) -> str:
    return "yes" if met else "**no**"


def main() -> int:
    began = time.perf_counter()
    calls = bench_metric_calls()
    handler = bench_instrumentation()
    window = bench_window()
    card = bench_cardinality()
    ingest, overhead = window["ingest"], handler["overhead"]
    step_before, step_after, speedup = window["before"], window["after"], window["speedup"]
    overhead_met = overhead.median <= OVERHEAD_GOAL_US
    window_met = step_after.median <= WINDOW_GOAL_S
    speedup_met = speedup.median >= STEP_SPEEDUP_GOAL
    step_what = (f"{STEP_ROWS:,} predictions in ({STEP_ROWS // 2:,} labelled), {STEP_ROWS:,} "
                 f"out, compute; window of {PREDICTIONS:,} x {FEATURES} features")
    bounded = card["series_after"] == card["series_after_1k"]
    benchmarks: dict[str, Any] = {
        "instrumentation_overhead_per_request": {
            **overhead.as_dict(3), "goal": f"<= {OVERHEAD_GOAL_US:g} us",
            "met": overhead_met,
            "method": f"A-B-B-A in the same run, {RUNS} rounds of {REQUESTS} in-process "
                      "requests per app: middleware + tag_request + observe_prediction (5 "
                      "features) vs the same handler uninstrumented; per-round "
                      "mean(instrumented) - mean(uninstrumented)"},
        "instrumented_vs_uninstrumented_handler": {
            **handler["slowdown"].as_dict(3),
            "method": "per-round mean(instrumented) / mean(uninstrumented), same run"},
        "uninstrumented_handler_per_request": handler["plain"].as_dict(3),
        "instrumented_handler_per_request": handler["instrumented"].as_dict(3),
        "metric_calls_per_request": {
            **calls.as_dict(3),
            "method": f"{RUNS} batches of {CALLS} request+prediction calls, mean per call"},
        "window_step_incremental": {
            **step_after.as_dict(5), "goal": f"<= {WINDOW_GOAL_S:g} s", "met": window_met,
            "predictions": PREDICTIONS, "features": FEATURES, "step_rows": STEP_ROWS,
            "method": f"exporter step: {step_what}; incremental windows"},
        "window_step_rebuild": {
            **step_before.as_dict(5), "predictions": PREDICTIONS, "features": FEATURES,
            "step_rows": STEP_ROWS,
            "method": "the same step rebuilding the window from its rows "
                      "(ModelWindows(incremental=False), the exporter before)"},
        "window_step_speedup": {
            **speedup.as_dict(2), "goal": f">= {STEP_SPEEDUP_GOAL:g}x", "met": speedup_met,
            "method": f"A-B-B-A in the same run, {WINDOW_RUNS} rounds: per-round "
                      "mean(rebuild) / mean(incremental)"},
        "ingest_per_prediction": {**ingest.as_dict(3),
                                  "method": f"per {CHUNK:,}-prediction chunk"},
        "cardinality_attack": {**card, "goal": "bounded", "met": bounded},
    }
    elapsed = time.perf_counter() - began
    notes = (f"In-process measurements on a shared machine (see machine.load_avg_1m). "
             f"Wall time of the run: {elapsed:.0f} s.")
    write_results(OUT, results_document("108-02", benchmarks, notes))
    rows = [
        ["instrumentation overhead per request (middleware + prediction + 5 features, "
         "A-B-B-A vs the uninstrumented handler)", overhead.format(),
         f"<= {OVERHEAD_GOAL_US:g} us", yes_no(overhead_met)],
        ["... instrumented / uninstrumented handler, same run", handler["slowdown"].format(),
         "-", "-"],
        ["... uninstrumented handler per request", handler["plain"].format(), "-", "-"],
        ["... instrumented handler per request", handler["instrumented"].format(), "-", "-"],
        ["metric calls alone per request (request + prediction + 5 features)", calls.format(),
         "-", "-"],
        [f"exporter window step ({step_what}), incremental", step_after.format(),
         f"<= {WINDOW_GOAL_S:g} s", yes_no(window_met)],
        ["... the same step rebuilding the window from its rows (before)",
         step_before.format(), "-", "-"],
        ["... rebuild / incremental, same run (A-B-B-A)", speedup.format(),
         f">= {STEP_SPEEDUP_GOAL:g}x", yes_no(speedup_met)],
        ["ingest per prediction (JSON parse excluded)", ingest.format(), "-", "-"],
        ["series under a cardinality attack (new model/version/route/class/feature every "
         f"call, guard {GUARD_MAX_VALUES} values/label)",
         f"{card['series_before']} before, {card['series_after_1k']} after 1,000 calls, "
         f"{card['series_after']} after {PREDICTIONS:,}", "bounded", yes_no(bounded)],
    ]
    update_readme(README, markdown_table(["benchmark", "result", "goal", "met"], rows))
    for row in rows:
        print(f"{row[0]}: {row[1]} (goal {row[2]}, met: {row[3]})")
    print(f"wrote {OUT} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
