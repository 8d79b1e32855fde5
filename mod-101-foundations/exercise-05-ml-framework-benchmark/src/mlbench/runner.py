"""Run jobs: one worker subprocess per (framework, threads, device) group, never in-process.

Isolation is the point: frameworks do not share thread pools, allocators or import-time state,
a crash in one framework cannot take the others down, and thread settings that must be fixed
before import (OMP_NUM_THREADS, XLA_FLAGS) are set cleanly for each group.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from mlbench.envinfo import availability
from mlbench.schema import Device, Job, Result, WorkerRequest

OnResult = Callable[[Result], None]


def worker_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment that fixes every thread pool the three frameworks use to `threads`."""
    # BEGIN SOLUTION: pin the OMP, MKL, OpenBLAS, TF and XLA thread pools, keep user XLA flags
    env = dict(os.environ if base is None else base)
    n = str(threads)
    env.update({"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n,
                "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1",
                "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"})
    flags = env.get("XLA_FLAGS", "")
    if threads == 1 and "intra_op_parallelism_threads" not in flags:
        # XLA:CPU has no thread-count knob beyond "single-threaded Eigen"; with more threads,
        # its pool is bounded by the CPU affinity (see --cpu-affinity).
        flags = (flags + " --xla_cpu_multi_thread_eigen=false "
                 "intra_op_parallelism_threads=1").strip()
    if flags:
        env["XLA_FLAGS"] = flags
    return env
    # END SOLUTION


def _skip(job: Job, reason: str) -> Result:
    return Result(job=job, key=job.key(), status="skipped", reason=reason)


def _error(job: Job, reason: str) -> Result:
    return Result(job=job, key=job.key(), status="error", reason=reason)


def _stderr_tail(path: Path) -> str:
    lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no output"


def run_group(framework: str, threads: int, device: Device, jobs: list[Job],
              cpu_affinity: list[int] | None = None, timeout_s: float = 3600.0,
              on_result: OnResult | None = None, isolated: bool = False) -> list[Result]:
    """Run `jobs` (all for one framework/threads/device) in a fresh worker process."""
    # BEGIN SOLUTION: run python -m mlbench.worker, read its JSON lines, kill it on timeout
    results: list[Result] = []

    def record(r: Result) -> None:
        results.append(r)
        if on_result:
            on_result(r)

    request = WorkerRequest(framework=framework, threads=threads,  # type: ignore[arg-type]
                            device=device, cpu_affinity=cpu_affinity,
                            isolated=isolated and len(jobs) == 1, jobs=jobs)
    with tempfile.TemporaryDirectory(prefix="mlbench-") as tmp:
        req = Path(tmp) / "request.json"
        req.write_text(request.model_dump_json())
        err_path = Path(tmp) / "stderr.log"
        with err_path.open("w") as err:
            proc = subprocess.Popen([sys.executable, "-m", "mlbench.worker", str(req)],
                                    stdout=subprocess.PIPE, stderr=err, text=True,
                                    env=worker_env(threads), stdin=subprocess.DEVNULL)
            assert proc.stdout is not None
            unavailable: str | None = None
            timed_out = threading.Event()

            def watchdog() -> None:  # a hung framework must not hang the whole run
                timed_out.set()
                proc.kill()

            timer = threading.Timer(timeout_s, watchdog)
            timer.start()
            try:
                for line in proc.stdout:
                    try:
                        msg = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if msg.get("event") == "result":
                        record(Result.model_validate(msg["result"]))
                    elif msg.get("event") == "unavailable":
                        unavailable = str(msg.get("reason"))
                rc = proc.wait()
            finally:
                timer.cancel()
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        done = {r.key for r in results}
        for job in jobs:
            if job.key() in done:
                continue
            if unavailable:
                record(_skip(job, unavailable))
            elif timed_out.is_set():
                record(_error(job, f"{framework} worker killed after the {timeout_s:g} s "
                                   "timeout (worker_timeout_s)"))
            else:
                record(_error(job, f"{framework} worker exited with code {rc} before this "
                                   f"job finished: {_stderr_tail(err_path)}"))
    return results
    # END SOLUTION


def merge_repeats(runs: list[list[Result]]) -> list[Result]:
    """One result per job from `repeats` runs of the same jobs: the first run's result with
    the median latency of every ok run in `run_medians_s` (what `compare` gates on)."""
    # BEGIN SOLUTION: keep the first run's result, collect each ok run's median
    if len(runs) == 1:
        return runs[0]
    by_key = [{r.key: r for r in run} for run in runs]
    merged: list[Result] = []
    for first in runs[0]:
        same = [run[first.key] for run in by_key if first.key in run]
        medians = [r.latency.median for r in same if r.status == "ok" and r.latency is not None]
        merged.append(first.model_copy(update={"run_medians_s": medians}))
    return merged
    # END SOLUTION


def run_repeated(jobs: list[Job], repeats: int, cpu_affinity: list[int] | None = None,
                 on_result: OnResult | None = None, timeout_s: float = 3600.0,
                 isolate_jobs: bool = False) -> list[Result]:
    """`run_jobs` `repeats` times, each time in fresh worker processes, merged per job."""
    runs = [run_jobs(jobs, cpu_affinity, on_result, timeout_s, isolate_jobs)
            for _ in range(repeats)]
    return merge_repeats(runs)


def run_jobs(jobs: list[Job], cpu_affinity: list[int] | None = None,
             on_result: OnResult | None = None, timeout_s: float = 3600.0,
             isolate_jobs: bool = False) -> list[Result]:
    """Run all jobs, grouped per framework; missing frameworks are skipped with the reason."""
    # BEGIN SOLUTION: group jobs per framework, threads and device; skip missing frameworks
    avail = availability()
    results: list[Result] = []
    order = {fw: i for i, fw in enumerate(dict.fromkeys(j.framework for j in jobs))}

    def group_key(j: Job) -> tuple[int, int, str]:
        return order[j.framework], j.threads, j.device

    for (_, threads, device), group_iter in itertools.groupby(sorted(jobs, key=group_key),
                                                               key=group_key):
        group = list(group_iter)
        fw = group[0].framework
        if not avail[fw]["installed"]:
            for job in group:
                r = _skip(job, str(avail[fw]["reason"]))
                results.append(r)
                if on_result:
                    on_result(r)
            continue
        batches = [[job] for job in group] if isolate_jobs else [group]
        for batch in batches:
            results.extend(run_group(fw, threads, device, batch,  # type: ignore[arg-type]
                                     cpu_affinity, timeout_s, on_result, isolate_jobs))
    return results
    # END SOLUTION
