"""Prometheus servers with backfilled DCGM history, started once through the shared
`prometheus_factory(backfill=...)` (promtool create-blocks-from openmetrics before start)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from gpufleet import backfill
from gpufleet import fleet as fleetfile

MONTH = "2026-11"
SMALL_FLEET = {
    "cluster": "small", "scrapeIntervalSeconds": 600,
    "pools": [{"name": "h100", "model": "H100-80GB", "gpus": 4, "gpusPerNode": 4},
              {"name": "mig", "model": "A100-40GB", "gpus": 1, "mig": {"2g.10gb": 3}}],
    "teams": [{"name": "llm", "namespace": "team-llm", "quota": {"h100": 3, "mig": 1},
               "cohort": "c", "monthlyGpuHours": 5000},
              {"name": "vision", "namespace": "team-vision", "quota": {"h100": 1, "mig": 2},
               "cohort": "c", "monthlyGpuHours": 100}],
    "prices": {"H100-80GB": "2.47", "A100-40GB": "1.13"},
}


@dataclass
class Backfilled:
    url: str
    fleet: fleetfile.Fleet
    truth: backfill.Truth
    server: Any


@pytest.fixture(scope="session")
def month_prometheus(prometheus_factory: Callable[..., Any]) -> Backfilled:
    fleet = fleetfile.parse(SMALL_FLEET)
    start, end = backfill.month_bounds(MONTH)
    truth = backfill.Truth(fleet.scrape_interval_s)
    text = "".join(backfill.synthesize(fleet, start, end, seed=11, truth=truth))
    server = prometheus_factory({"global": {"scrape_interval": "15s"}}, backfill=text)
    return Backfilled(server.url, fleet, truth, server)


@pytest.fixture(scope="session")
def planted_prometheus(prometheus_factory: Callable[..., Any]) -> str:
    start, _ = backfill.month_bounds(MONTH)
    text = backfill.planted(start + 86400, gpus=3, hours=2, util=40, interval_s=30)
    return str(prometheus_factory({"global": {"scrape_interval": "15s"}}, backfill=text).url)
