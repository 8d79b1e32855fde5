"""`python -m mlbench.worker REQUEST.json`: run one framework's jobs in this process.

Protocol: one JSON object per line on the *original* stdout (`{"event": "result", ...}`,
`{"event": "unavailable", "reason": ...}`); file descriptor 1 is then pointed at stderr so that
framework chatter can never corrupt the protocol. The parent sets thread variables (OMP, MKL,
XLA_FLAGS) in the environment before this process imports anything.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from mlbench.schema import Fingerprint, Job, Result, WorkerRequest


def _emit(stream: IO[str], event: str, **payload: Any) -> None:
    stream.write(json.dumps({"event": event, **payload}) + "\n")
    stream.flush()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


SHARED, FRESH = "delta in a shared worker", "fresh worker per job"


def run_job(adapter: Any, job: Job, env: Fingerprint, isolated: bool = False) -> Result:
    """Build, warm up, time and measure one job; failures become a Result, never a crash."""
    # BEGIN SOLUTION: build, warm up, time or run the scenario under the Monitor, return a Result
    import psutil

    from mlbench.adapters.base import UnsupportedJobError
    from mlbench.models import make_batch as batch_for
    from mlbench.models import spec_for
    from mlbench.monitor import Monitor
    from mlbench.scenarios import offline, server, single_stream
    from mlbench.stats import summarize
    from mlbench.timing import time_step

    started = time.perf_counter()
    rss_before = psutil.Process().memory_info().rss  # before the model exists
    base: dict[str, Any] = {"job": job, "key": job.key(), "env": env,
                            "memory_method": FRESH if isolated else SHARED,
                            "worker_pid": os.getpid()}
    try:
        spec = spec_for(job.model, "small", job.model_spec)
        x, y = batch_for(spec, job.batch_size, job.seed)
        wl = adapter.build(job, spec, x, y)
    except UnsupportedJobError as exc:
        return Result(status="skipped", reason=str(exc), **base)
    except Exception as exc:
        return Result(status="error", reason=f"build failed: {_one_line(exc)}", **base)
    try:
        out = wl.step()  # first call: tracing / compilation happens here, untimed
        wl.sync(out)
        loss_first = wl.loss_of(out) if wl.loss_of else None
        wl.reset_device_memory()
        scenario_info: dict[str, Any] | None = None
        gpu_index = 0 if job.device == "gpu" else None
        with Monitor(gpu_index=gpu_index) as mon:
            if job.scenario is None:
                samples = time_step(wl.step, wl.sync, job.iterations, max(0, job.warmup - 1))
                summary = summarize(samples, trim=job.trim_outliers)
                throughput = job.batch_size / summary.mean
                ci = (job.batch_size / summary.ci95_high, job.batch_size / summary.ci95_low)
            else:
                warm = time_step(wl.step, wl.sync, max(2, job.warmup), 0)
                if job.scenario == "single_stream":
                    sc = single_stream(wl.step, wl.sync, job.queries)
                elif job.scenario == "offline":
                    sc = offline(wl.step, wl.sync, job.queries, job.batch_size)
                else:
                    warm.sort()
                    qps = job.server_qps or 0.5 / warm[len(warm) // 2]  # auto: half capacity
                    sc = server(wl.step, wl.sync, job.queries, qps,
                                job.latency_bound_ms / 1000.0, seed=job.seed)
                samples = sc.latencies
                summary = summarize(samples, trim=job.trim_outliers)
                throughput = sc.throughput
                ci = None
                scenario_info = sc.model_dump(exclude={"latencies"})
        loss_last = None
        if wl.loss_of:
            out = wl.step()
            wl.sync(out)
            loss_last = wl.loss_of(out)
        memory = mon.result()
        memory["device_peak_mb"] = wl.device_memory_peak_mb()
        # The job held at least what the process held when it began (the monitor samples only
        # the measured phase, after build and the first step may have freed temporaries).
        before_mb = rss_before / 2**20
        peak_mb = max(memory["peak_rss_mb"] or 0.0, before_mb)
        memory["peak_rss_mb"] = peak_mb
        memory["rss_before_job_mb"] = before_mb
        memory["job_rss_delta_mb"] = peak_mb - before_mb
    except UnsupportedJobError as exc:
        return Result(status="skipped", reason=str(exc), **base)
    except Exception as exc:
        return Result(status="error", reason=f"run failed: {_one_line(exc)}", **base)
    return Result(status="ok", param_count=wl.param_count, samples_s=samples, latency=summary,
                  throughput=throughput, throughput_ci95=ci, loss_first=loss_first,
                  loss_last=loss_last, memory=memory, scenario=scenario_info,
                  channels_last_applied=wl.channels_last_applied, applied=wl.applied(),
                  wall_s=time.perf_counter() - started, **base)
    # END SOLUTION


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m mlbench.worker REQUEST.json\n")
        return 2
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything the frameworks print goes to stderr, not into the protocol
    request = WorkerRequest.model_validate_json(Path(args[0]).read_text())
    if request.cpu_affinity:
        os.sched_setaffinity(0, request.cpu_affinity)
    from mlbench.adapters import load_adapter
    from mlbench.adapters.base import UnsupportedJobError
    from mlbench.envinfo import host_fingerprint

    try:
        adapter = load_adapter(request.framework)
    except ImportError as exc:
        _emit(proto, "unavailable", reason=f"{request.framework} could not be imported: "
                                           f"{_one_line(exc)}")
        return 0
    try:
        info = adapter.setup(request.threads, request.device)
    except UnsupportedJobError as exc:
        _emit(proto, "unavailable", reason=str(exc))
        return 0
    env = host_fingerprint(request.threads, request.framework, request.device,
                           info.pop("device_name", None), info)
    _emit(proto, "ready", env=env.model_dump())
    for job in request.jobs:
        result = run_job(adapter, job, env, request.isolated)
        _emit(proto, "result", result=result.model_dump(mode="json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
