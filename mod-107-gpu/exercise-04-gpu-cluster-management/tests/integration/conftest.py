"""Prometheus servers with backfilled DCGM history, started once per session: the month
through `backfill.load_blocks` (promtool with one block per month: 2 h blocks made its
setup take a minute) and the shared `start_prometheus`; the few-hour planted series
through the shared `prometheus_factory(backfill=...)`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiinfra_shared.procs.services import BACKFILL_RETENTION, start_prometheus

from gpufleet import backfill
from gpufleet import fleet as fleetfile

MONTH = "2026-11"
SMALL_FLEET = {
    "cluster": "small", "scrapeIntervalSeconds": 600,
    "pools": [{"name": "h100", "model": "H100-80GB", "gpus": 4, "gpusPerNode": 4},
              {"name": "mig", "model": "A100-40GB", "gpus": 1, "mig": {"2g.10gb": 3}},
              {"name": "l4", "model": "L4", "gpus": 1, "gpusPerNode": 1,
               "timeSlicingReplicas": 4}],
    "teams": [{"name": "llm", "namespace": "team-llm", "quota": {"h100": 3, "mig": 1, "l4": 2},
               "cohort": "c", "monthlyGpuHours": 5000},
              {"name": "vision", "namespace": "team-vision",
               "quota": {"h100": 1, "mig": 2, "l4": 2},
               "cohort": "c", "monthlyGpuHours": 100}],
    "prices": {"H100-80GB": "2.47", "A100-40GB": "1.13", "L4": "0.83"},
}


@dataclass
class Backfilled:
    url: str
    fleet: fleetfile.Fleet
    truth: backfill.Truth
    server: Any


@pytest.fixture(scope="session")
def month_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    fleet = fleetfile.parse(SMALL_FLEET)
    start, end = backfill.month_bounds(MONTH)
    truth = backfill.Truth(fleet.scrape_interval_s)
    work = tmp_path_factory.mktemp("month-prometheus")
    with (work / "month.om").open("w") as handle:
        handle.writelines(backfill.synthesize(fleet, start, end, seed=11, truth=truth))
    backfill.load_blocks(work / "data", work / "month.om")
    server = start_prometheus(work, {"global": {"scrape_interval": "15s"}},
                              retention=BACKFILL_RETENTION)
    try:
        yield Backfilled(server.url, fleet, truth, server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def planted_prometheus(prometheus_factory: Callable[..., Any]) -> str:
    start, _ = backfill.month_bounds(MONTH)
    text = backfill.planted(start + 86400, gpus=3, hours=2, util=40, interval_s=30)
    return str(prometheus_factory({"global": {"scrape_interval": "15s"}}, backfill=text).url)


@pytest.fixture(scope="session")
def shared_prometheus(prometheus_factory: Callable[..., Any]) -> str:
    """Two time-sliced L4s with hand-worked per-process SM use (`backfill.planted_shared`)."""
    start, _ = backfill.month_bounds(MONTH)
    text = backfill.planted_shared(start + 86400, interval_s=30)
    return str(prometheus_factory({"global": {"scrape_interval": "15s"}}, backfill=text).url)
