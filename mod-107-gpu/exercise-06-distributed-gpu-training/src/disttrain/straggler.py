"""Straggler detection: name the rank the others wait for (pytorch#71303).

Per-rank backward time hides a straggler: under DDP the *fast* ranks spend the slow rank's
extra time blocked inside backward's all-reduce, so their backward looks slow and the slow
rank's looks normal. The detector therefore splits every step at a sync point placed after
the forward pass: a 4-byte all_reduce whose duration is the time this rank was *blocked*
waiting for the last one to arrive. Per rank and step it records

* `data_ms`    time to fetch the micro-batches,
* `compute_ms` forward before the sync point plus backward and optimizer after it,
* `blocked_ms` time in the sync point.

Every `window` steps the per-rank medians are all-gathered: the straggler is the rank with the
least blocked time while the others' median blocked time exceeds it by `threshold_ms`. Its
slow phase is the one (data or pre-sync compute) where it exceeds the others most.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass
class StepTimes:
    data_ms: float = 0.0
    pre_ms: float = 0.0  # forward before the sync point
    blocked_ms: float = 0.0
    post_ms: float = 0.0  # backward + optimizer

    @property
    def compute_ms(self) -> float:
        return self.pre_ms + self.post_ms


@dataclass
class WindowReport:
    window: int
    first_step: int
    last_step: int
    per_rank: list[dict[str, float]]
    straggler: int | None
    lag_ms: float
    phase: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_straggler(per_rank: list[dict[str, float]], threshold_ms: float
                   ) -> tuple[int | None, float, str | None]:
    """(straggler rank or None, how long the others waited for it, its slow phase).

    `per_rank[r]` holds rank r's medians: data_ms, pre_ms, blocked_ms (and compute_ms).
    """
    # BEGIN SOLUTION
    if len(per_rank) < 2:
        return None, 0.0, None
    blocked = [r["blocked_ms"] for r in per_rank]
    candidate = min(range(len(blocked)), key=lambda r: blocked[r])
    others = [b for r, b in enumerate(blocked) if r != candidate]
    lag = statistics.median(others) - blocked[candidate]
    if lag < threshold_ms:
        return None, lag, None
    def excess(key: str) -> float:
        rest = [row[key] for r, row in enumerate(per_rank) if r != candidate]
        return per_rank[candidate][key] - statistics.median(rest)
    phase = "data" if excess("data_ms") >= excess("pre_ms") else "compute"
    return candidate, lag, phase
    # END SOLUTION


@dataclass
class StragglerDetector:
    rank: int
    world_size: int
    window: int
    threshold_ms: float
    action: str = "log"
    metrics_dir: Path | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    reports: list[WindowReport] = field(default_factory=list)
    _times: list[StepTimes] = field(default_factory=list)
    _first_step: int = 0

    def sync_point(self) -> float:
        """The timed 4-byte all_reduce; returns the milliseconds this rank was blocked."""
        flag = torch.ones(1, device=self.device)
        start = time.perf_counter()
        dist.all_reduce(flag)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return (time.perf_counter() - start) * 1000.0

    def record(self, step: int, times: StepTimes) -> WindowReport | None:
        """Add one step; at the end of a window, gather, decide and return the report."""
        if not self._times:
            self._first_step = step
        self._times.append(times)
        if len(self._times) < self.window:
            return None
        mine = {key: statistics.median(getattr(t, key) for t in self._times)
                for key in ("data_ms", "pre_ms", "blocked_ms", "post_ms")}
        mine["compute_ms"] = mine["pre_ms"] + mine["post_ms"]
        gathered: list[dict[str, float] | None] = [None] * self.world_size
        dist.all_gather_object(gathered, mine)
        per_rank = [g or {} for g in gathered]
        straggler, lag, phase = find_straggler(per_rank, self.threshold_ms)
        report = WindowReport(len(self.reports), self._first_step, step, per_rank, straggler,
                              round(lag, 3), phase)
        self.reports.append(report)
        self._times = []
        self._act(report)
        return report

    def _act(self, report: WindowReport) -> None:
        if report.straggler is None:
            return
        message = (f"straggler: rank {report.straggler} ({report.phase}) made the others wait "
                   f"{report.lag_ms:.1f} ms per step in steps {report.first_step}-"
                   f"{report.last_step}")
        if self.rank == 0:
            log.warning(message)
        if self.action == "metric" and self.rank == 0 and self.metrics_dir is not None:
            self.metrics_dir.mkdir(parents=True, exist_ok=True)
            with (self.metrics_dir / "straggler.jsonl").open("a") as handle:
                handle.write(json.dumps(report.as_dict()) + "\n")
            from aiinfra_shared.io import atomic_write_text

            atomic_write_text(self.metrics_dir / "disttrain.prom",
                              "# HELP disttrain_straggler_rank Rank the others wait for.\n"
                              "# TYPE disttrain_straggler_rank gauge\n"
                              f"disttrain_straggler_rank {report.straggler}\n"
                              "# TYPE disttrain_straggler_lag_ms gauge\n"
                              f"disttrain_straggler_lag_ms {report.lag_ms}\n")
        if self.action == "exit" and self.rank == report.straggler:
            from disttrain.errors import StragglerExitError

            raise StragglerExitError(message + "; exiting so torchrun restarts the group")
