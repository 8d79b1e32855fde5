"""Benchmarks for modelmon; writes benchmarks/results.json and prints a Markdown table.

1. instrumentation overhead per request: the metric calls alone, and the ASGI middleware
   (same tiny app called in-process with and without it, so HTTP and the network are excluded)
2. exporter window computation: 100k predictions x 20 features, half labelled
3. series count under a cardinality attack: 100k distinct model/class/feature values
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from aiinfra_shared.cli import progress_bar
from aiinfra_shared.io import atomic_write_json
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from modelmon.instrument import CardinalityGuard, ModelMetrics, PrometheusMiddleware
from modelmon.predlog import LabelRecord, PredictionRecord
from modelmon.reference import parse_reference
from modelmon.window import ModelWindows

OUT = Path(__file__).with_name("results.json")


def bench_metric_calls(n: int = 20_000) -> float:
    metrics = ModelMetrics(guard=CardinalityGuard({"model": {"churn"}}))
    features = {f"f{i}": 0.1 * i for i in range(5)}
    started = time.perf_counter()
    for _ in range(n):
        metrics.observe_request("churn", "v1", "/models/{model}/predict", 0.004, "success")
        metrics.observe_prediction("churn", "v1", 1, 0.87, features)
    return (time.perf_counter() - started) / n * 1e6


def _asgi_app(with_middleware: bool) -> Any:
    async def predict(request: Request) -> PlainTextResponse:
        return PlainTextResponse("1")

    app = Starlette(routes=[Route("/models/{model}/predict", predict, methods=["POST"])])
    if with_middleware:
        app.add_middleware(PrometheusMiddleware, metrics=ModelMetrics(),
                           default_model="churn", default_version="v1")
    return app


async def _drive(app: Any, n: int) -> float:
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
    return (time.perf_counter() - started) / n * 1e6


def bench_middleware(n: int = 5_000, repeats: int = 5) -> dict[str, float]:
    plain, instrumented = [], []
    for _ in range(repeats):
        plain.append(asyncio.run(_drive(_asgi_app(False), n)))
        instrumented.append(asyncio.run(_drive(_asgi_app(True), n)))
    p, i = statistics.median(plain), statistics.median(instrumented)
    return {"plain_us": p, "instrumented_us": i, "overhead_us": i - p}


def bench_window(n: int = 100_000, n_features: int = 20, repeats: int = 3) -> dict[str, float]:
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(n_features)]
    reference = parse_reference({
        "model": "m", "features": {name: {"sample": rng.standard_normal(2000).tolist(),
                                          "low": -6, "high": 6} for name in names},
        "prediction_sample": rng.random(2000).tolist(), "baseline": {"accuracy": 0.9}})
    windows = ModelWindows({"m": reference}, window_seconds=1e9, max_size=n, min_samples=50,
                           min_labels=20)
    rows = rng.standard_normal((n, n_features)) + 0.3
    scores = rng.random(n)
    started = time.perf_counter()
    with progress_bar("ingesting predictions", total=n) as advance:
        for i in range(n):
            windows.add_prediction(PredictionRecord(
                f"p{i}", 1.0, "m", "v1", dict(zip(names, rows[i].tolist(), strict=True)),
                float(scores[i] > 0.5), float(scores[i])))
            if i % 2 == 0:
                windows.add_label(LabelRecord(f"p{i}", 2.0, float(rng.random() > 0.5)))
            if i % 10_000 == 0:
                advance(10_000)
    ingest = time.perf_counter() - started
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        [result] = windows.compute(now=3.0)
        timings.append(time.perf_counter() - started)
    assert result.predictions == n and result.labelled == n // 2
    return {"predictions": n, "features": n_features, "compute_seconds": min(timings),
            "compute_seconds_median": statistics.median(timings),
            "ingest_us_per_prediction": ingest / n * 1e6}


def _series(registry: CollectorRegistry) -> int:
    return sum(len(metric.samples) for metric in registry.collect())


def bench_cardinality(n: int = 100_000, max_values: int = 20) -> dict[str, int]:
    metrics = ModelMetrics(guard=CardinalityGuard(max_values=max_values))
    metrics.observe_request("churn", "v1", "/p", 0.01, "success")
    metrics.observe_prediction("churn", "v1", 1, 0.9, {"f0": 1.0})
    before = _series(metrics.registry)
    after_1k = 0
    for i in range(n):
        metrics.observe_request(f"attack-{i}", f"v{i}", f"/r{i}", 0.01, "client_error")
        metrics.observe_prediction(f"attack-{i}", "v1", f"c{i}", 0.9, {f"x{i}": 1.0})
        if i == 999:
            after_1k = _series(metrics.registry)
    return {"distinct_values_sent": n, "max_values_per_label": max_values,
            "series_before": before, "series_after_1k": after_1k,
            "series_after": _series(metrics.registry)}


def main() -> int:
    results = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "processor": platform.machine()},
        "metric_calls_us_per_request": bench_metric_calls(),
        "middleware": bench_middleware(),
        "window": bench_window(),
        "cardinality": bench_cardinality(),
    }
    atomic_write_json(OUT, results)
    w, m, c = results["window"], results["middleware"], results["cardinality"]
    print(f"""| benchmark | goal | measured |
|---|---|---|
| metric calls per request (request + prediction + 5 features) | <= 50 us | {results['metric_calls_us_per_request']:.1f} us |
| ASGI middleware overhead per request | <= 50 us | {m['overhead_us']:.1f} us ({m['plain_us']:.1f} -> {m['instrumented_us']:.1f} us) |
| window computation, {w['predictions']:,} predictions x {w['features']} features | <= 1 s | {w['compute_seconds']:.3f} s (median {w['compute_seconds_median']:.3f} s) |
| ingest per prediction (parse excluded) | - | {w['ingest_us_per_prediction']:.1f} us |
| series under a cardinality attack (new model/version/route/class/feature every call) | bounded | {c['series_before']} before, {c['series_after_1k']} after 1,000 calls, {c['series_after']} after {c['distinct_values_sent']:,} |""")  # noqa: E501
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
