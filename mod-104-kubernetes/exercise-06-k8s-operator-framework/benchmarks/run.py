"""Benchmarks for modelop; writes benchmarks/results.json and the README's benchmark table.

For each of BENCH_RUNS rounds and each mode (diff-before-write, always-patch), on a fresh
kmock API emulator with the operator in this process:
1. create BENCH_MODELS MLModels at once and time until every one is Ready (the fake kubelet
   of `modelop.devcluster` marks Deployment pods ready, as the kubelet would);
2. once quiet, count the API writes and the timer reconciles during BENCH_RESYNC_ROUNDS
   resync intervals of the unchanged models (timer every BENCH_RESYNC_SECONDS).
The ratio compares writes per timer reconcile, always-patch over diff-before-write (with no
write in diff mode, one is assumed: the ratio is then a lower bound). Statistics,
results.json and the README table come from `aiinfra_shared.bench`.
Knobs: BENCH_RUNS (2), BENCH_MODELS (200), BENCH_RESYNC_SECONDS (20), BENCH_RESYNC_ROUNDS (1).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESYNC = float(os.environ.get("BENCH_RESYNC_SECONDS", "20"))
os.environ["MODELOP_RESYNC_SECONDS"] = str(RESYNC)  # read when the handlers are imported
os.environ["MODELOP_METRICS_PORT"] = "0"

from aiinfra_shared.bench import (  # noqa: E402 - the environment above must come first
    markdown_table,
    results_document,
    summarize,
    update_readme,
    write_results,
)
from aiinfra_shared.cli import progress_bar  # noqa: E402
from aiinfra_shared.procs.k8s import K8sApi, start_k8s_api  # noqa: E402
from kubernetes.config import kube_config  # noqa: E402

from modelop import handlers, metrics  # noqa: E402
from modelop.adapters.kube import KubeApi  # noqa: E402
from modelop.config import Settings  # noqa: E402
from modelop.crd import crd_manifest  # noqa: E402
from modelop.devcluster import FakeKubelet, OperatorThread, wait_until  # noqa: E402

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
RUNS = int(os.environ.get("BENCH_RUNS", "2"))
MODELS = int(os.environ.get("BENCH_MODELS", "200"))
ROUNDS = int(os.environ.get("BENCH_RESYNC_ROUNDS", "1"))
RATIO_GOAL = 10.0
MLMODELS = "aiinfra.dev/v1alpha1/mlmodels"


def _ready_count(api: K8sApi) -> int:
    count = 0
    for item in api.list(MLMODELS):
        for cond in (item.get("status") or {}).get("conditions") or []:
            if cond["type"] == "Ready" and cond["status"] == "True":
                count += 1
    return count


def one_run(diff_before_write: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="modelop-bench-") as tmp:
        api_server = start_k8s_api(Path(tmp))
        os.environ["KUBECONFIG"] = str(api_server.kubeconfig)
        # the client remembered $KUBECONFIG at import; kopf's login reads that default
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(api_server.kubeconfig)
        handlers.configure(Settings(diff_before_write=diff_before_write))
        api_server.declare_crd(crd_manifest())
        api = KubeApi(api_server.client())
        kubelet = FakeKubelet(lambda: api_server.list("apps/v1/deployments"), api,
                              interval=0.5).start()
        operator = OperatorThread().start()
        try:
            started = time.perf_counter()
            for i in range(MODELS):
                api.create({"apiVersion": "aiinfra.dev/v1alpha1", "kind": "MLModel",
                            "metadata": {"name": f"model-{i:03d}", "namespace": "default"},
                            "spec": {"model": {"uri": f"s3://models/m{i}/v1",
                                               "framework": "sklearn"}, "replicas": 2}})

            def converged() -> bool:
                # kmock matches each request against its whole request log (linear in its
                # length): keep the log short while converging, only the window counts
                api_server.take_requests()
                return _ready_count(api_server) == MODELS

            wait_until(converged, 600, interval=0.5, what=f"{MODELS} MLModels Ready")
            converge = time.perf_counter() - started
            _log(f"{'diff' if diff_before_write else 'always'}: {MODELS} Ready in "
                 f"{converge:.1f} s")
            _drain_for(api_server, RESYNC)  # let the last handlers and status writes land
            before = _timer_reconciles()
            writes, reads = _drain_for(api_server, RESYNC * ROUNDS)
            reconciles = _timer_reconciles() - before
            _log(f"  window: {writes} writes, {reads} reads, {reconciles:.0f} reconciles")
        finally:
            operator.stop()
            kubelet.stop()
            api_server.stop()
    return {"converge_s": converge, "writes": writes, "reads": reads,
            "reconciles": int(reconciles),
            "writes_per_reconcile": writes / max(reconciles, 1)}


def _drain_for(api_server: K8sApi, seconds: float) -> tuple[int, int]:
    """(writes, reads) the emulator received in the next `seconds`, read and cleared every
    half second: kmock matches each request against its whole log, so a long log would
    slow every later request down (quadratic), and the measurement with it."""
    writes = reads = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.5)
        requests = api_server.take_requests()
        writes += sum(1 for r in requests if r.is_write)
        reads += sum(1 for r in requests if r.method == "GET" and "watch" not in r.query)
    return writes, reads


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _timer_reconciles() -> float:
    return float(metrics.RECONCILES.labels("timer", "ok")._value.get())


def main() -> None:
    logging.getLogger("kopf").setLevel(logging.ERROR)
    logging.getLogger("aiohttp.access").setLevel(logging.ERROR)
    began = time.perf_counter()
    results: dict[str, list[dict[str, Any]]] = {"diff": [], "always": []}
    with progress_bar("benchmark runs", total=RUNS * 2) as advance:
        for _ in range(RUNS):
            for mode in ("diff", "always"):  # interleaved: drifts of the machine hit both
                results[mode].append(one_run(mode == "diff"))
                advance(1)
    converge = summarize([r["converge_s"] for r in results["diff"]], unit="s")
    converge_always = summarize([r["converge_s"] for r in results["always"]], unit="s")
    diff_writes = [r["writes"] for r in results["diff"]]
    always_writes = [r["writes"] for r in results["always"]]
    # per resync reconcile, so that a slower round in one mode does not skew the ratio; with
    # no write at all in diff mode, one write is assumed (a lower bound on the ratio)
    ratios = [a["writes_per_reconcile"] / (max(d["writes"], 1) / max(d["reconciles"], 1))
              for a, d in zip(results["always"], results["diff"], strict=True)]
    ratio = summarize(ratios, unit="x")
    lower_bound = max(diff_writes) == 0
    met = ratio.median >= RATIO_GOAL
    benchmarks = {
        "resync_writes": {
            "models": MODELS, "resync_seconds": RESYNC, "rounds": ROUNDS,
            "diff_before_write": diff_writes, "always_patch": always_writes,
            "reads_per_window": [r["reads"] for r in results["diff"]],
            "timer_reconciles_diff": [r["reconciles"] for r in results["diff"]],
            "timer_reconciles_always": [r["reconciles"] for r in results["always"]],
            "writes_per_reconcile_always": [round(r["writes_per_reconcile"], 2)
                                            for r in results["always"]],
            "ratio": ratio.as_dict(1), "ratio_is_lower_bound": lower_bound,
            "goal": f">= {RATIO_GOAL:g}x fewer", "met": met},
        "converge": {"models": MODELS, "diff_before_write": converge.as_dict(2),
                     "always_patch": converge_always.as_dict(2)},
    }
    notes = (f"{RUNS} runs per mode, interleaved; operator and kmock API emulator in one "
             f"process on this machine (the emulator's request handling dominates). Wall "
             f"time of the run: {time.perf_counter() - began:.0f} s.")
    write_results(HERE / "results.json", results_document("104-06", benchmarks, notes))
    bound = ">= " if lower_bound else ""
    diff_rec = [r["reconciles"] for r in results["diff"]]
    always_rec = [r["reconciles"] for r in results["always"]]
    rows = [
        [f"API writes in a {RESYNC * ROUNDS:g} s resync window, {MODELS} unchanged MLModels, "
         "diff-before-write", f"{max(diff_writes)} in {min(diff_rec)}-{max(diff_rec)} "
         f"timer reconciles (max of {RUNS} runs)", "-", "-"],
        ["... always-patch", f"{min(always_writes)}-{max(always_writes)} in "
         f"{min(always_rec)}-{max(always_rec)} timer reconciles", "-", "-"],
        ["writes per reconcile, always-patch / diff-before-write", f"{bound}{ratio.format()}",
         f">= {RATIO_GOAL:g}x", "yes" if met else "**no**"],
        [f"time for {MODELS} MLModels to converge (all Ready), diff-before-write",
         converge.format(), "-", "-"],
        ["... always-patch", converge_always.format(), "-", "-"],
    ]
    table = markdown_table(["benchmark", "result", "goal", "met"], rows)
    update_readme(README, table)
    print(table)


if __name__ == "__main__":
    main()
