"""Benchmarks for mltrack, against a real tracking server.

1. Metric logging throughput: one `log_metric` request per value versus `log_batch`
   (1000 values per request).
2. Promotion evaluation time: `mltrack promote` end to end (load models from S3 through the
   server, held-out metrics, latency gate, tracked evaluation run, alias move, tags).

Uses the server at MLTRACK_TRACKING_URI when it answers, otherwise starts the local stack
(PostgreSQL + moto + mlflow server) on a free port for the duration of the run.
Writes benchmarks/results.json and the table between the markers in README.md.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def bench_logging(tracker: Any, experiment: str, per_call_n: int, batched_n: int
                  ) -> dict[str, Any]:
    from mlflow.entities import Metric

    experiment_id = tracker.ensure_experiment(experiment)
    client = tracker.client
    run = client.create_run(experiment_id, run_name="bench-per-call")
    start = time.perf_counter()
    for step in range(per_call_n):
        client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1), step=step)
    per_call_s = time.perf_counter() - start
    client.set_terminated(run.info.run_id)

    run = client.create_run(experiment_id, run_name="bench-batched")
    now = int(time.time() * 1000)
    metrics = [Metric("loss", 1.0 / (step + 1), now, step) for step in range(batched_n)]
    start = time.perf_counter()
    calls = tracker.log_metrics_batched(run.info.run_id, metrics)
    batched_s = time.perf_counter() - start
    client.set_terminated(run.info.run_id)
    stored = len(client.get_metric_history(run.info.run_id, "loss"))
    assert stored == batched_n, f"server stored {stored} of {batched_n} batched values"

    per_call_rate = per_call_n / per_call_s
    batched_rate = batched_n / batched_s
    return {"per_call": {"values": per_call_n, "seconds": per_call_s,
                         "values_per_s": per_call_rate},
            "batched": {"values": batched_n, "requests": calls, "seconds": batched_s,
                        "values_per_s": batched_rate},
            "speedup": batched_rate / per_call_rate}


def bench_promotion(tracker: Any, experiment: str, state_dir: Path) -> dict[str, Any]:
    from mltrack import promotion, training
    from mltrack.config import Settings

    name = f"bench-{uuid.uuid4().hex[:6]}"
    settings = Settings(tracking_uri=tracker.uri, experiment=experiment, model_name=name,
                        state_dir=state_dir, actor="bench")
    for params in (training.SklearnParams(alpha=0.2, eta0=0.001, epochs=2),
                   training.SklearnParams()):
        training.train_sklearn(tracker, experiment, params, register_as=name)
    timings = {}
    for label, version in (("first_promotion_s", "1"), ("promotion_vs_champion_s", "2")):
        start = time.perf_counter()
        decision = promotion.promote(tracker, settings, name, version)
        timings[label] = time.perf_counter() - start
        assert decision.promoted, decision.report.summary()
    timings["latency_samples"] = settings.gates.latency_samples
    return timings


def render_table(results: dict[str, Any]) -> str:
    log = results["logging"]
    promo = results["promotion"]
    return "\n".join([
        "| measurement | value |", "|---|---|",
        f"| per-call `log_metric` | {log['per_call']['values_per_s']:.0f} values/s "
        f"({log['per_call']['values']} values) |",
        f"| batched `log_batch` | {log['batched']['values_per_s']:.0f} values/s "
        f"({log['batched']['values']} values in {log['batched']['requests']} requests) |",
        f"| batched / per-call | **{log['speedup']:.1f}x** (goal >= 10x) |",
        f"| promote, first champion (1 model evaluated) | {promo['first_promotion_s']:.2f} s |",
        f"| promote vs champion (2 models evaluated) | {promo['promotion_vs_champion_s']:.2f} s |",
        "",
        f"Measured {results['measured_at']} on {results['machine']} against "
        f"{results['server']}.",
    ])


def main() -> int:
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    from aiinfra_shared.io import atomic_write_json, atomic_write_text
    from aiinfra_shared.procs.ports import free_port

    from mltrack.adapters import stack
    from mltrack.adapters.mlflow_server import Tracker
    from mltrack.config import ServerSettings
    from mltrack.errors import TrackingUnavailableError

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
        results = {
            "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                       f"{platform.python_version()}",
            "server": server,
            "logging": bench_logging(tracker, experiment, per_call_n=200, batched_n=5000),
            "promotion": bench_promotion(tracker, experiment, state_dir),
        }
    finally:
        if started:
            stack.down(state_dir)
    atomic_write_json(HERE / "results.json", results)
    table = render_table(results)
    text = README.read_text()
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        atomic_write_text(README, f"{before}{START}\n{table}\n{END}{after}")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
