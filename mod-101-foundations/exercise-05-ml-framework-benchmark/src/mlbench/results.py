"""Results files: JSON (the source of truth, with raw samples) and a flat CSV, atomically."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_text
from pydantic import ValidationError

from mlbench.schema import SCHEMA_VERSION, Result, ResultsFile


class ResultsError(ValueError):
    """A results file that cannot be used (missing, malformed, other schema version)."""


CSV_COLUMNS = [
    "key", "status", "reason", "framework", "model", "mode", "scenario", "batch_size", "dtype",
    "threads", "device", "jit", "channels_last", "param_count", "n", "mean_ms", "median_ms",
    "p90_ms", "p95_ms", "p99_ms", "stdev_ms", "ci95_low_ms", "ci95_high_ms", "cv", "outliers",
    "throughput", "loss_first", "loss_last", "peak_rss_mb", "cpu_util_pct", "gpu_util_pct",
    "device_peak_mb", "target_qps", "target_met", "framework_version", "cpu_model",
]


def make_file(results: list[Result], suite: str) -> ResultsFile:
    return ResultsFile(created=datetime.now(UTC).isoformat(timespec="seconds"), suite=suite,
                       results=results)


def csv_row(r: Result) -> dict[str, Any]:
    j = r.job
    row: dict[str, Any] = {
        "key": r.key, "status": r.status, "reason": r.reason or "", "framework": j.framework,
        "model": j.model, "mode": j.mode, "scenario": j.scenario or "",
        "batch_size": j.batch_size, "dtype": j.dtype, "threads": j.threads, "device": j.device,
        "jit": j.jit, "channels_last": r.channels_last_applied, "param_count": r.param_count,
        "throughput": r.throughput, "loss_first": r.loss_first, "loss_last": r.loss_last,
    }
    if r.latency:
        s = r.latency
        row |= {"n": s.n, "mean_ms": s.mean * 1e3, "median_ms": s.median * 1e3,
                "p90_ms": s.p90 * 1e3, "p95_ms": s.p95 * 1e3, "p99_ms": s.p99 * 1e3,
                "stdev_ms": s.stdev * 1e3, "ci95_low_ms": s.ci95_low * 1e3,
                "ci95_high_ms": s.ci95_high * 1e3, "cv": s.cv, "outliers": s.outliers}
    for k in ("peak_rss_mb", "cpu_util_pct", "gpu_util_pct", "device_peak_mb"):
        row[k] = r.memory.get(k)
    if r.scenario:
        row["target_qps"] = r.scenario.get("target_qps")
        row["target_met"] = r.scenario.get("target_met")
    if r.env:
        row["framework_version"] = r.env.framework_version
        row["cpu_model"] = r.env.cpu_model
    return row


def to_csv(results: list[Result]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for r in results:
        writer.writerow({k: ("" if v is None else v) for k, v in csv_row(r).items()})
    return buf.getvalue()


def save(doc: ResultsFile, out_dir: Path) -> tuple[Path, Path]:
    """Write results.json and results.csv into `out_dir` (each via temp file + rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jpath, cpath = out_dir / "results.json", out_dir / "results.csv"
    atomic_write_text(jpath, doc.model_dump_json(indent=1) + "\n")
    atomic_write_text(cpath, to_csv(doc.results))
    return jpath, cpath


def load(path: Path) -> ResultsFile:
    """Read a results file; ResultsError names the problem in one line."""
    # BEGIN SOLUTION: parse, check schema_version, validate; one-line ResultsError otherwise
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ResultsError(f"results file not found: {path}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: not a JSON results file ({exc})") from exc
    if not isinstance(raw, dict) or "schema_version" not in raw:
        raise ResultsError(f"{path}: not an mlbench results file (no schema_version)")
    if raw["schema_version"] != SCHEMA_VERSION:
        raise ResultsError(f"{path}: schema version {raw['schema_version']!r} is not supported "
                           f"(this mlbench reads version {SCHEMA_VERSION}); rerun the benchmark")
    try:
        return ResultsFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ResultsError(f"{path}: invalid results file at {loc}: {first['msg']}") from exc
    # END SOLUTION
