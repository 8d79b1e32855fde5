"""Benchmarks for meshobs; writes benchmarks/results.json and the README's benchmark table.

1. User-visible errors of a faulty rollout (model v2 answering BENCH_ERROR_RATE 5xx), with
   analysis vs a big-bang switch, in one run on one live stack under the same steady load
   (BENCH_RATE req/s): phase A starts an analysed canary rollout (interval 2 s, step
   BENCH_STEP_WEIGHT = 10 %, Flagger's usual step, max 50 %, threshold 2) and keeps
   counting for BENCH_WINDOW seconds; phase B switches 100 % to v2 at once for the same
   window, with no analysis to stop it. Ratio = errors(A) / errors(B).
2. Latency of POST /predict on model v1: direct (client with the gateway's mTLS certificate)
   vs through the gateway's HAProxy sidecar listener (plain HTTP in, mTLS out), persistent
   connections, A-B-B-A over BENCH_ROUNDS rounds of BENCH_REQUESTS requests; p50 and p99 of
   all requests per side, and the per-round p50 difference with its interval.
3. Spans ingested per second by `meshobs traces serve` (its own process, SQLite): batches of
   500 spans as OTLP/HTTP protobuf, BENCH_BATCHES batches per run, BENCH_RUNS runs.

Statistics, results.json and the README table come from `aiinfra_shared.bench`.
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from aiinfra_shared.bench import (
    markdown_table,
    measure,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.procs import ServiceProcess, free_port
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from meshobs.adapters.prometheus import PrometheusSource
from meshobs.adapters.webhooks import HttpWebhooks
from meshobs.delivery.runner import Rollout
from meshobs.delivery.spec import CanarySpec
from meshobs.loadgen import LoadGenerator
from meshobs.spec import default_spec
from meshobs.stack import Stack, StackOptions, meshobs_exe
from meshobs.traces.graph import percentile

HERE = Path(__file__).resolve().parent
OUT = HERE / "results.json"
README = HERE.parent / "README.md"

RATE = float(os.environ.get("BENCH_RATE", "30"))
ERROR_RATE = float(os.environ.get("BENCH_ERROR_RATE", "0.2"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "30"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
BATCHES = int(os.environ.get("BENCH_BATCHES", "10"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
STEP = int(os.environ.get("BENCH_STEP_WEIGHT", "10"))
BATCH_SPANS = 500
ERRORS_GOAL = 0.1


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def rollout_vs_big_bang(stack: Stack) -> dict[str, Any]:
    assert stack.prometheus is not None
    spec = CanarySpec(service="model", primary="v1", canary="v2", interval="2s",
                      step_weight=STEP, max_weight=50, threshold=2)
    router = stack.router("model")
    load = LoadGenerator(stack.gateway_url, rate=RATE).start()
    try:
        time.sleep(3)  # Prometheus has a few scrapes of steady traffic
        stack.set_faults("model", "v2", error_rate=ERROR_RATE)
        before = load.snapshot()
        start = time.monotonic()
        state = Rollout(spec, stack.spec, PrometheusSource(stack.prometheus.url), router,
                        HttpWebhooks()).run()
        rollout_s = time.monotonic() - start
        time.sleep(max(0.0, WINDOW - rollout_s))
        analysed = load.snapshot()
        router.set_weights({"v1": 0, "v2": 100})
        time.sleep(WINDOW)
        big_bang = load.snapshot()
        router.set_weights({"v1": 100, "v2": 0})
    finally:
        load.stop()
        stack.set_faults("model", "v2")
    a_errors = analysed.errors - before.errors
    a_total = analysed.total - before.total
    b_errors = big_bang.errors - analysed.errors
    b_total = big_bang.total - analysed.total
    ratio = a_errors / b_errors if b_errors else float("inf")
    return {"phase": state.phase, "rollback_after_s": round(rollout_s, 2),
            "failed_checks": state.failed_checks, "analysed_errors": a_errors,
            "analysed_requests": a_total, "big_bang_errors": b_errors,
            "big_bang_requests": b_total, "ratio": round(ratio, 4), "window_s": WINDOW,
            "rate_rps": RATE, "v2_error_rate": ERROR_RATE}


def latency(stack: Stack) -> dict[str, Any]:
    files = stack.ca.workload("gateway")
    context = ssl.create_default_context(cafile=str(stack.ca.cert_path))
    context.load_cert_chain(str(files.cert_path), str(files.key_path))
    direct_url = f"https://127.0.0.1:{stack.workloads[('model', 'v1')].port}/predict"
    proxied_url = f"{stack.listener_url('gateway', 'model')}/predict"
    stack.router("model").set_weights({"v1": 100, "v2": 0})
    clients = {"direct": httpx.Client(verify=context, timeout=10),
               "haproxy": httpx.Client(timeout=10)}
    urls = {"direct": direct_url, "haproxy": proxied_url}
    samples: dict[str, list[float]] = {"direct": [], "haproxy": []}
    per_round: dict[str, list[float]] = {"direct": [], "haproxy": []}

    def batch(side: str) -> None:
        times = []
        for i in range(REQUESTS):
            start = time.perf_counter()
            response = clients[side].post(urls[side], json={"entity": f"bench-{i}"})
            times.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
        samples[side] += times
        per_round[side].append(statistics.median(times))

    for side in ("direct", "haproxy"):  # warm-up: connections, caches
        clients[side].post(urls[side], json={"entity": "warm"}).raise_for_status()
    for _ in range(ROUNDS):
        for side in ("direct", "haproxy", "haproxy", "direct"):
            batch(side)
    for client in clients.values():
        client.close()
    added = summarize([p - d for p, d in zip(per_round["haproxy"], per_round["direct"],
                                             strict=True)], unit="ms")
    return {side: {"p50_ms": round(percentile(values, 50), 3),
                   "p99_ms": round(percentile(values, 99), 3), "requests": len(values)}
            for side, values in samples.items()} | {"added_p50": added.as_dict(3)}


def otlp_batch(index: int) -> bytes:
    """BATCH_SPANS spans in traces of 5, three services, unique ids per batch."""
    request = ExportTraceServiceRequest()
    base = time.time_ns()
    for service in ("gateway", "model", "features"):
        resource = ResourceSpans()
        resource.resource.attributes.append(
            KeyValue(key="service.name", value=AnyValue(string_value=service)))
        scope = ScopeSpans()
        share = BATCH_SPANS // 3 + (1 if service == "gateway" else 0) * (BATCH_SPANS % 3)
        for n in range(share):
            trace = (index * 1_000_000 + n // 5).to_bytes(16, "big")
            span_id = (index * 10_000_000 + n * 4 + ("gateway", "model",
                                                     "features").index(service) + 1)
            scope.spans.append(Span(
                trace_id=trace, span_id=span_id.to_bytes(8, "big"), name="POST /predict",
                kind=Span.SpanKind.SPAN_KIND_SERVER, start_time_unix_nano=base,
                end_time_unix_nano=base + 5_000_000))
        resource.scope_spans.append(scope)
        request.resource_spans.append(resource)
    return request.SerializeToString()


def ingest(work: Path) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    collector = ServiceProcess("collector", [meshobs_exe(), "traces", "serve", "--port",
                                             str(port), "--db", str(work / "bench.sqlite")],
                               work / "collector.log", ready_http=f"{url}/healthz").start()
    counter = iter(range(10**6))
    headers = {"content-type": "application/x-protobuf"}
    try:
        with httpx.Client(timeout=30) as client:
            bodies = [otlp_batch(next(counter)) for _ in range(BATCHES * (RUNS + 1))]
            spans_per_batch = sum(len(scope.spans) for resource in
                                  ExportTraceServiceRequest.FromString(bodies[0]).resource_spans
                                  for scope in resource.scope_spans)
            position = iter(bodies)

            def run() -> None:
                for _ in range(BATCHES):
                    client.post(f"{url}/v1/traces", content=next(position),
                                headers=headers).raise_for_status()

            stats = measure(run, runs=RUNS, warmup=1)
    finally:
        collector.stop()
    spans = spans_per_batch * BATCHES
    per_second = summarize([spans / t for t in stats.samples], unit="spans/s")
    return {"spans_per_s": per_second.as_dict(1), "spans_per_run": spans,
            "batch_spans": spans_per_batch}


def main() -> int:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="meshobs-bench-") as tmp:
        work = Path(tmp)
        stack = Stack(default_spec(), work / "stack",
                      StackOptions(cert_ttl=dt.timedelta(hours=1)))
        print("starting the stack ...", file=sys.stderr)
        stack.start()
        try:
            print("faulty rollout: analysis vs big-bang ...", file=sys.stderr)
            errors = rollout_vs_big_bang(stack)
            print("latency: direct vs through HAProxy ...", file=sys.stderr)
            lat = latency(stack)
        finally:
            stack.stop()
        print("span ingest ...", file=sys.stderr)
        spans = ingest(work)
    errors_met = errors["ratio"] <= ERRORS_GOAL and errors["phase"] == "Failed"
    per_s = summarize(spans["spans_per_s"]["samples"], unit="spans/s")
    added = summarize(lat["added_p50"]["samples"], unit="ms")
    benchmarks = {
        "faulty_rollout_user_errors": {**errors, "goal": f"<= {ERRORS_GOAL:g}x",
                                       "met": errors_met},
        "latency_direct_vs_haproxy": {**lat, "method": (
            f"A-B-B-A, {ROUNDS} rounds of {REQUESTS} sequential requests per side, "
            "keep-alive connections, model v1 /predict (includes its features call)")},
        "span_ingest": {**spans, "method": f"{RUNS} runs of {BATCHES} OTLP batches"},
    }
    elapsed = time.perf_counter() - began
    notes = (f"One live stack on loopback (HAProxy 2.6, Prometheus, 5 Python services) on a "
             f"shared 2-core machine (see machine.load_avg_1m). Wall time {elapsed:.0f} s.")
    write_results(OUT, results_document("104-05", benchmarks, notes))
    rows = [
        [f"user errors, faulty v2 ({ERROR_RATE:.0%} 5xx): analysed rollout (step {STEP} %) "
         f"/ big-bang over {WINDOW:g} s at {RATE:g} req/s",
         f"{errors['ratio']:.3f}x ({errors['analysed_errors']} vs "
         f"{errors['big_bang_errors']} errors; rolled back after "
         f"{errors['rollback_after_s']:.1f} s)", f"<= {ERRORS_GOAL:g}x", yes_no(errors_met)],
        ["latency direct (mTLS client -> model)",
         f"p50 {lat['direct']['p50_ms']:.2f} ms, p99 {lat['direct']['p99_ms']:.2f} ms",
         "-", "-"],
        ["latency through HAProxy (plain -> sidecar -> mTLS -> model)",
         f"p50 {lat['haproxy']['p50_ms']:.2f} ms, p99 {lat['haproxy']['p99_ms']:.2f} ms",
         "-", "-"],
        ["... added by the sidecar hop (per-round p50 difference)", added.format(), "-", "-"],
        [f"spans ingested per second (OTLP/HTTP, {spans['batch_spans']}-span batches, "
         "SQLite)", per_s.format(".4g"), "-", "-"],
    ]
    update_readme(README, markdown_table(["benchmark", "result", "goal", "met"], rows))
    for row in rows:
        print(f"{row[0]}: {row[1]} (goal {row[2]}, met: {row[3]})")
    print(f"wrote {OUT} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
