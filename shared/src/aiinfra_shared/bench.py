"""One benchmark helper for every exercise: repeated runs, medians with a 95% confidence
interval, A-B-B-A interleaving for ratios, one results-file schema, the README table rewrite.

Why these choices:
* Median, not mean: a shared 2-core machine produces long right tails (another process
  takes a core); the median ignores them, the mean does not.
* The confidence interval of the median comes from order statistics (distribution-free,
  exact, no randomness): for n samples it is [x(k), x(n-k+1)] with the largest k whose
  binomial coverage is still >= 95%. With fewer than 6 samples no such k exists; the
  interval is then [min, max] and `confidence` reports the coverage actually reached
  (n=5: 93.8%), so nobody reads more certainty into it than there is.
* Ratios (A is N times faster than B) are measured A-B-B-A so slow drifts of the machine
  (thermal, a neighbour's job) fall on both sides equally; the ratio's interval comes from the
  per-round ratios the same way.

Results files (`benchmarks/results.json`) follow `SCHEMA`:
    {"schema": "aiinfra-bench/1", "exercise": "101-04", "measured_at": ISO-8601,
     "machine": {...machine_info()...}, "benchmarks": {name: {...}}, "notes": "..."}
Each benchmark entry holds what it measured: a `Stats.as_dict()` (median, ci_low, ci_high,
confidence, n, unit, samples) and/or plain values with their goal.
"""

from __future__ import annotations

import math
import os
import platform
import re
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiinfra_shared.io import atomic_write_json, atomic_write_text

SCHEMA = "aiinfra-bench/1"
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
_LEGACY_MARKERS = (("<!-- BENCH:START -->", "<!-- BENCH:END -->"),
                   ("<!-- bench:begin -->", "<!-- bench:end -->"))


class BenchError(ValueError):
    """Bad benchmark input (no samples, a README without table markers...)."""


@dataclass(frozen=True)
class Stats:
    """Summary of repeated measurements of one quantity."""

    samples: tuple[float, ...]
    median: float
    ci_low: float
    ci_high: float
    confidence: float  # the coverage the interval actually reaches
    unit: str = "s"

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def relative_spread(self) -> float:
        """Half the interval's width relative to the median (0.05 = +-5%)."""
        if self.median == 0:
            return math.inf
        return (self.ci_high - self.ci_low) / 2 / abs(self.median)

    def as_dict(self, digits: int = 6) -> dict[str, Any]:
        return {"median": round(self.median, digits), "ci_low": round(self.ci_low, digits),
                "ci_high": round(self.ci_high, digits),
                "confidence": round(self.confidence, 4), "n": self.n, "unit": self.unit,
                "samples": [round(x, digits) for x in self.samples]}

    def format(self, fmt: str = ".3g") -> str:
        """`0.274 s (95% CI 0.246-0.315, n=5)`: for README tables."""
        label = f"{self.confidence * 100:.0f}% CI"
        unit = self.unit if self.unit == "x" else f" {self.unit}"
        return (f"{self.median:{fmt}}{unit} ({label} {self.ci_low:{fmt}}-"
                f"{self.ci_high:{fmt}}, n={self.n})")


def median_ci(samples: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Distribution-free interval for the median: (low, high, coverage reached).

    The interval [x(k+1), x(n-k)] (1-based) covers the median with 1 - 2*P(X <= k) for
    X ~ Binomial(n, 1/2). Counts stay exact integers (no float overflow for large n); the
    cumulative count grows term by term, so the search is linear in n.
    """
    ordered = sorted(samples)
    n = len(ordered)
    if n == 0:
        raise BenchError("no samples")
    total = 1 << n
    term = 1  # C(n, 0)
    cumulative = term
    best = (ordered[0], ordered[-1], 1 - 2 * cumulative / total)
    for k in range(0, (n - 1) // 2 + 1):
        if k > 0:
            term = term * (n - k + 1) // k
            cumulative += term
        coverage = 1 - 2 * cumulative / total
        if coverage < level:
            break
        best = (ordered[k], ordered[n - 1 - k], coverage)
    return best


def summarize(samples: Sequence[float], unit: str = "s", level: float = 0.95) -> Stats:
    """Median and its confidence interval of `samples`."""
    values = tuple(float(x) for x in samples)
    if not values:
        raise BenchError("no samples to summarize")
    if any(math.isnan(x) for x in values):
        raise BenchError("a sample is NaN")
    low, high, coverage = median_ci(values, level)
    return Stats(values, statistics.median(values), low, high, coverage, unit)


def measure(fn: Callable[[], object], runs: int = 5, warmup: int = 1,
            clock: Callable[[], float] = time.perf_counter) -> Stats:
    """Time `fn()` `runs` times after `warmup` untimed calls."""
    if runs < 1:
        raise BenchError("runs must be >= 1")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = clock()
        fn()
        times.append(clock() - start)
    return summarize(times)


@dataclass(frozen=True)
class Comparison:
    """A-B-B-A result: each side's times and how many times faster B is than A."""

    a: Stats
    b: Stats
    speedup: Stats  # per-round time(A) / time(B); > 1 means B is faster

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a.as_dict(), "b": self.b.as_dict(),
                "speedup": self.speedup.as_dict()}


def compare_abba(a: Callable[[], float | None], b: Callable[[], float | None],
                 rounds: int = 3, clock: Callable[[], float] = time.perf_counter
                 ) -> Comparison:
    """Run A, B, B, A per round; compare per round (mean of A's two runs / mean of B's).

    Each callable may return its own measured duration (e.g. time inside a server); when it
    returns None the wall time of the call is used.
    """
    if rounds < 1:
        raise BenchError("rounds must be >= 1")

    def timed(fn: Callable[[], float | None]) -> float:
        start = clock()
        own = fn()
        return float(own) if own is not None else clock() - start

    a_times: list[float] = []
    b_times: list[float] = []
    ratios: list[float] = []
    for _ in range(rounds):
        a1, b1, b2, a2 = timed(a), timed(b), timed(b), timed(a)
        a_times += [a1, a2]
        b_times += [b1, b2]
        b_mean = (b1 + b2) / 2
        ratios.append((a1 + a2) / 2 / b_mean if b_mean > 0 else math.inf)
    return Comparison(summarize(a_times), summarize(b_times), summarize(ratios, unit="x"))


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on: CPU model and count, memory, Python, load."""
    info: dict[str, Any] = {
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        if match:
            info["cpu_model"] = match.group(1).strip()
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        match = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        if match:
            info["memory_gib"] = round(int(match.group(1)) / 1024**2, 1)
    if hasattr(os, "getloadavg"):
        info["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return info


def results_document(exercise: str, benchmarks: Mapping[str, Any], notes: str = "",
                     machine: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A results.json payload in the shared schema."""
    return {"schema": SCHEMA, "exercise": exercise,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": dict(machine if machine is not None else machine_info()),
            "benchmarks": dict(benchmarks), "notes": notes}


def validate_document(payload: Mapping[str, Any]) -> list[str]:
    """Problems with a results.json payload against the schema ([] when fine)."""
    problems = []
    if payload.get("schema") != SCHEMA:
        problems.append(f"schema is {payload.get('schema')!r}, expected {SCHEMA!r}")
    for key, kind in (("exercise", str), ("measured_at", str), ("machine", dict),
                      ("benchmarks", dict)):
        if not isinstance(payload.get(key), kind):
            problems.append(f"'{key}' missing or not a {kind.__name__}")
    machine = payload.get("machine")
    if isinstance(machine, dict) and not {"cpus", "python"} <= machine.keys():
        problems.append("'machine' lacks cpus/python")
    benchmarks = payload.get("benchmarks")
    if isinstance(benchmarks, dict) and not benchmarks:
        problems.append("'benchmarks' is empty")
    return problems


def write_results(path: Path, payload: Mapping[str, Any]) -> None:
    """Validate and write results.json atomically."""
    problems = validate_document(payload)
    if problems:
        raise BenchError(f"{path}: " + "; ".join(problems))
    atomic_write_json(path, dict(payload))


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def replace_readme_table(text: str, table: str) -> str:
    """`text` with the block between the bench markers replaced by `table`.

    Accepts the older marker spellings and writes the standard ones.
    """
    for start, end in ((README_START, README_END), *_LEGACY_MARKERS):
        if start in text and end in text.split(start, 1)[1]:
            head, rest = text.split(start, 1)
            tail = rest.split(end, 1)[1]
            return f"{head}{README_START}\n{table.strip()}\n{README_END}{tail}"
    raise BenchError(f"no '{README_START}' ... '{README_END}' block in the README")


def update_readme(readme: Path, table: str) -> None:
    """Rewrite the README's benchmark table in place (atomically)."""
    atomic_write_text(readme, replace_readme_table(readme.read_text(), table))
