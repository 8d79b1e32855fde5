"""Benchmarks for mltrack, against a real tracking server.

1. Metric logging throughput: one `log_metric` request per value (BENCH_PER_CALL_VALUES
   values) versus `log_batch` (1000 values per request, BENCH_BATCHED_VALUES values), each
   into a fresh run. Timed A-B-B-A (`compare_abba`, BENCH_RUNS rounds) on seconds per value,
   so the "batched is N times faster" ratio comes from interleaved runs.
2. Promotion evaluation time: `mltrack promote` end to end (load models from S3 through the
   server, held-out metrics, latency gate, tracked evaluation run, alias move, tags), for a
   first champion and for a candidate against a champion. BENCH_PROMOTION_RUNS rounds, each
   with a fresh registered model and two freshly trained versions (training not timed).

Uses the server at MLTRACK_TRACKING_URI when it answers, otherwise starts the local stack
(PostgreSQL + moto + mlflow server) on a free port for the duration of the run.
Statistics, results.json and the README table come from `aiinfra_shared.bench`.
Knobs: BENCH_RUNS (7), BENCH_PROMOTION_RUNS (7), BENCH_PER_CALL_VALUES (200),
BENCH_BATCHED_VALUES (5000), MLTRACK_TRACKING_URI.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
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

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
PROMOTION_RUNS = int(os.environ.get("BENCH_PROMOTION_RUNS", "7"))
PER_CALL_N = int(os.environ.get("BENCH_PER_CALL_VALUES", "200"))
BATCHED_N = int(os.environ.get("BENCH_BATCHED_VALUES", "5000"))
SPEEDUP_GOAL = 10.0  # batched at least 10x the per-call throughput


def rate(stats: Stats) -> Stats:
    """Seconds per value -> values per second (the median and interval map through 1/x)."""
    return summarize([1 / s for s in stats.samples], unit="values/s")


def bench_logging(tracker: Any, experiment: str) -> dict[str, Any]:
    from mlflow.entities import Metric

    experiment_id = tracker.ensure_experiment(experiment)
    client = tracker.client
    requests: list[int] = []

    def per_call() -> float:
        run = client.create_run(experiment_id, run_name="bench-per-call")
        start = time.perf_counter()
        for step in range(PER_CALL_N):
            client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1), step=step)
        elapsed = time.perf_counter() - start
        client.set_terminated(run.info.run_id)
        return elapsed / PER_CALL_N

    def batched() -> float:
        run = client.create_run(experiment_id, run_name="bench-batched")
        now = int(time.time() * 1000)
        metrics = [Metric("loss", 1.0 / (step + 1), now, step) for step in range(BATCHED_N)]
        start = time.perf_counter()
        requests.append(tracker.log_metrics_batched(run.info.run_id, metrics))
        elapsed = time.perf_counter() - start
        client.set_terminated(run.info.run_id)
        stored = len(client.get_metric_history(run.info.run_id, "loss"))
        assert stored == BATCHED_N, f"server stored {stored} of {BATCHED_N} batched values"
        return elapsed / BATCHED_N

    abba = compare_abba(per_call, batched, rounds=RUNS)
    return {"per_call": rate(abba.a), "batched": rate(abba.b), "speedup": abba.speedup,
            "requests": requests[0]}


def bench_promotion(tracker: Any, experiment: str, state_dir: Path) -> dict[str, Stats]:
    from mltrack import promotion, training
    from mltrack.config import Settings

    first: list[float] = []
    versus: list[float] = []
    for _ in range(PROMOTION_RUNS):
        name = f"bench-{uuid.uuid4().hex[:6]}"
        settings = Settings(tracking_uri=tracker.uri, experiment=experiment, model_name=name,
                            state_dir=state_dir, actor="bench")
        for params in (training.SklearnParams(alpha=0.2, eta0=0.001, epochs=2),
                       training.SklearnParams()):
            training.train_sklearn(tracker, experiment, params, register_as=name)
        for timings, version in ((first, "1"), (versus, "2")):
            start = time.perf_counter()
            decision = promotion.promote(tracker, settings, name, version)
            timings.append(time.perf_counter() - start)
            assert decision.promoted, decision.report.summary()
    return {"first": summarize(first), "versus": summarize(versus)}


def main() -> int:
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    from aiinfra_shared.procs.ports import free_port

    from mltrack.adapters import stack
    from mltrack.adapters.mlflow_server import Tracker
    from mltrack.config import ServerSettings, Settings
    from mltrack.errors import TrackingUnavailableError

    began = time.perf_counter()
    uri = os.environ.get("MLTRACK_TRACKING_URI", "http://127.0.0.1:5055")
    state_dir = Path(tempfile.mkdtemp(prefix="mltrack-bench-"))
    started = False
    try:
        tracker = Tracker(uri, retries=0)
        server = f"the running server {uri}"
    except TrackingUnavailableError:
        print(f"no server at {uri}; starting the local stack ...", file=sys.stderr)
        state = stack.up(ServerSettings(port=free_port()), state_dir)
        started = True
        tracker = Tracker(state.tracking_uri)
        server = "a fresh local stack (PostgreSQL + moto S3 + mlflow server, 1 worker)"
    try:
        experiment = f"bench-{uuid.uuid4().hex[:6]}"
        logs = bench_logging(tracker, experiment)
        promo = bench_promotion(tracker, experiment, state_dir)
    finally:
        if started:
            stack.down(state_dir)
    speedup: Stats = logs["speedup"]
    met = speedup.median >= SPEEDUP_GOAL
    latency_samples = Settings().gates.latency_samples
    benchmarks: dict[str, Any] = {
        "log_metric_per_call": {**logs["per_call"].as_dict(2), "values": PER_CALL_N},
        "log_batch": {**logs["batched"].as_dict(2), "values": BATCHED_N,
                      "requests": logs["requests"]},
        "batched_speedup_vs_per_call": {
            **speedup.as_dict(2), "goal": f">= {SPEEDUP_GOAL:g}x", "met": met,
            "method": f"A-B-B-A, {RUNS} rounds, per-round mean(per-call s/value) / "
                      "mean(batched s/value)"},
        "promote_first_champion": {**promo["first"].as_dict(3), "models_evaluated": 1,
                                   "latency_samples": latency_samples},
        "promote_vs_champion": {**promo["versus"].as_dict(3), "models_evaluated": 2,
                                "latency_samples": latency_samples},
    }
    elapsed = time.perf_counter() - began
    notes = (f"Against {server}. Logging: A-B-B-A over {RUNS} rounds; promotion: "
             f"{PROMOTION_RUNS} rounds, fresh model each. Wall time of the run (including "
             f"the stack start): {elapsed:.0f} s.")
    write_results(HERE / "results.json", results_document("106-04", benchmarks, notes))
    rows = [
        [f"per-call `log_metric` ({PER_CALL_N} values)", logs["per_call"].format(".0f"),
         "-", "-"],
        [f"batched `log_batch` ({BATCHED_N} values in {logs['requests']} requests)",
         logs["batched"].format(".0f"), "-", "-"],
        ["batched / per-call throughput (A-B-B-A)", speedup.format(".1f"),
         f">= {SPEEDUP_GOAL:g}x", "yes" if met else "**no**"],
        ["promote, first champion (1 model evaluated)", promo["first"].format(), "-", "-"],
        ["promote vs champion (2 models evaluated)", promo["versus"].format(), "-", "-"],
    ]
    update_readme(README, markdown_table(["measurement", "result", "goal", "met"], rows))
    for row in rows:
        print(f"{row[0]}: {row[1]}")
    print(f"wrote {HERE / 'results.json'} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
