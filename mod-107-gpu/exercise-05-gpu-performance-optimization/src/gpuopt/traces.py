"""Reading a gpuopt run: Kineto trace through HolisticTraceAnalysis, plus run.json.

HTA (`hta.trace_analysis.TraceAnalysis`) parses the trace into a DataFrame of events with a
symbol table; we decode names and categories from it. HTA's own analyses (temporal and idle
breakdown) look at GPU kernels, so they are only called when the trace has some.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gpuopt.errors import TraceError
from gpuopt.profiling import TRACE_NAME

COLLECTIVE_RE = re.compile(r"nccl|gloo|c10d::|all_?reduce|all_?gather|reduce_?scatter|"
                           r"broadcast", re.IGNORECASE)
OP_CATEGORIES = ("cpu_op", "kernel", "gpu_memcpy", "gpu_memset")


@dataclass
class LoadedRun:
    """A run directory: its run.json, the HTA analyzer and the decoded event table."""

    path: Path
    run: dict[str, Any]
    events: pd.DataFrame  # name, cat, ts, dur, end, tid, stream, input_type, input_strides
    flops_total: float
    analyzer: Any

    @property
    def has_gpu_kernels(self) -> bool:
        return bool((self.events["cat"] == "kernel").any())


def _check_raw(trace: Path) -> dict[str, Any]:
    try:
        raw = json.loads(trace.read_text())
    except json.JSONDecodeError as exc:
        raise TraceError(f"{trace}: truncated or not JSON ({exc.msg} at char {exc.pos})") from exc
    except OSError as exc:
        raise TraceError(f"{trace}: cannot read ({exc.strerror})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("traceEvents"), list):
        raise TraceError(f"{trace}: not a Kineto/Chrome trace (no traceEvents list)")
    if not any(isinstance(e, dict) and e.get("name") == "gpuopt/step"
               for e in raw["traceEvents"]):
        raise TraceError(f"{trace}: a foreign trace (no gpuopt/step ranges); profile with "
                         "`gpuopt profile` first")
    return raw


def load_run(path: Path) -> LoadedRun:
    """Load a run directory written by `gpuopt profile`; TraceError if anything is off."""
    run_file = path / "run.json"
    trace = path / "trace" / TRACE_NAME
    if not path.is_dir():
        raise TraceError(f"{path}: no such run directory")
    if not trace.is_file():
        raise TraceError(f"{path}: no trace/{TRACE_NAME} (not a gpuopt profile directory)")
    try:
        run = json.loads(run_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise TraceError(f"{run_file}: missing or unreadable run.json") from exc
    if run.get("schema") != "gpuopt-run/1":
        raise TraceError(f"{run_file}: not a gpuopt run (schema {run.get('schema')!r})")
    _check_raw(trace)
    flops = float(run.get("flops_total") or 0.0)  # from the profiler's events (with_flops)
    from hta.trace_analysis import TraceAnalysis

    quiet = io.StringIO()
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            analyzer = TraceAnalysis(trace_dir=str(trace.parent),
                                     include_last_profiler_step=True)
        frame = analyzer.t.get_trace(next(iter(analyzer.t.traces)))
        table = analyzer.t.symbol_table.get_sym_table()
    except Exception as exc:  # HTA raises many types on bad input
        raise TraceError(f"{trace}: HolisticTraceAnalysis cannot parse it "
                         f"({type(exc).__name__}: {exc})".replace("\n", " ")) from exc
    finally:
        logging.disable(previous)
    events = pd.DataFrame({
        "name": frame["name"].map(lambda i: table[i]), "cat": frame["cat"].map(lambda i: table[i]),
        "ts": frame["ts"].astype(float), "dur": frame["dur"].astype(float),
        "tid": frame["tid"], "stream": frame["stream"],
        "input_type": frame.get("input_type", ""),
        "input_strides": frame.get("input_strides", ""),
    })
    events["end"] = events["ts"] + events["dur"]
    return LoadedRun(path, run, events.reset_index(drop=True), flops, analyzer)


def self_times(events: pd.DataFrame) -> pd.Series:
    """Exclusive (self) time of each op: its duration minus its direct children's (per thread)."""
    ops = events[events["cat"].isin(OP_CATEGORIES)].sort_values(["tid", "ts", "dur"],
                                                                ascending=[True, True, False])
    result: dict[int, float] = {}
    for _, group in ops.groupby("tid", sort=False):
        stack: list[tuple[int, float]] = []  # (index, end)
        for index, ts, dur in zip(group.index, group["ts"], group["dur"], strict=True):
            end = ts + dur
            while stack and stack[-1][1] <= ts:
                stack.pop()
            result[index] = dur
            if stack:
                result[stack[-1][0]] -= dur
            stack.append((index, end))
    return pd.Series(result, dtype=float)
