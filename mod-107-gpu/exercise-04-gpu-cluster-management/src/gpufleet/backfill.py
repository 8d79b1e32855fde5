"""Synthetic dcgm-exporter history for a fleet, as OpenMetrics for `promtool tsdb
create-blocks-from openmetrics` (through the shared `backfill_prometheus`).

Deterministic from the seed: each GPU (or MIG instance) is, per 6-hour block, free or
allocated to a team (weighted by its quota in that pool) at a block utilisation with
per-sample noise; some allocations are idle (0 %). `Truth` keeps the exact totals."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gpufleet.fleet import Fleet
from gpufleet.profiles import MODELS

BLOCK_S = 6 * 3600
METRIC = "DCGM_FI_DEV_GPU_UTIL"


def month_bounds(month: str) -> tuple[int, int]:
    """Unix seconds [start, end) of `YYYY-MM` in UTC."""
    try:
        year, mon = (int(part) for part in month.split("-"))
        start = dt.datetime(year, mon, 1, tzinfo=dt.UTC)
    except ValueError as exc:
        raise ValueError(f"month must be YYYY-MM (got {month!r})") from exc
    days = calendar.monthrange(year, mon)[1]
    return int(start.timestamp()), int(start.timestamp()) + days * 86400


@dataclass
class Device:
    pool: str
    model: str
    node: str
    gpu: int
    uuid: str
    profile: str | None = None
    instance: int = 0

    def labels(self) -> dict[str, str]:
        labels = {"gpu": str(self.gpu), "UUID": self.uuid, "device": f"nvidia{self.gpu}",
                  "modelName": MODELS[self.model].dcgm_name, "Hostname": self.node}
        if self.profile:
            labels.update({"GPU_I_PROFILE": self.profile, "GPU_I_ID": str(self.instance)})
        return labels


@dataclass
class Truth:
    """Exact sample counts and utilisation sums per (namespace, modelName, profile)."""

    interval_s: int
    allocated_samples: dict[tuple[str, str, str], int] = field(
        default_factory=lambda: defaultdict(int))
    util_sum: dict[tuple[str, str, str], float] = field(
        default_factory=lambda: defaultdict(float))
    all_samples: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    samples: int = 0


def devices(fleet: Fleet) -> list[Device]:
    out = []
    for pool in fleet.pools:
        for g in range(pool.gpus):
            node = f"{pool.name}-node-{g // pool.gpus_per_node}"
            uuid = f"GPU-{pool.name}-{g:04d}"
            local = g % pool.gpus_per_node
            if pool.mig:
                ((profile, count),) = pool.mig.items()
                out += [Device(pool.name, pool.model, node, local, uuid, profile, i + 1)
                        for i in range(count)]
            else:
                out.append(Device(pool.name, pool.model, node, local, uuid))
    return out


def _fmt(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def synthesize(fleet: Fleet, start: int, end: int, seed: int = 7,
               truth: Truth | None = None) -> Iterator[str]:
    """OpenMetrics lines (ending with `# EOF`) for [start, end) at the fleet's interval."""
    interval = fleet.scrape_interval_s
    yield f"# HELP {METRIC} GPU utilization (in %).\n# TYPE {METRIC} gauge\n"
    # BEGIN SOLUTION
    for index, device in enumerate(devices(fleet)):
        rng = random.Random(f"{seed}/{index}")  # noqa: S311 - synthetic data, seeded
        weights = [(t.namespace, t.quota.get(device.pool, 0)) for t in fleet.teams]
        weights = [(ns, w) for ns, w in weights if w > 0]
        base = device.labels()
        model_name, profile = base["modelName"], device.profile or ""
        block_start = start
        while block_start < end:
            block_end = min(block_start + BLOCK_S, end)
            team = None
            if weights and rng.random() < 0.75:
                team = rng.choices([ns for ns, _ in weights], [w for _, w in weights])[0]
            mean = 0.0 if rng.random() < 0.1 else rng.uniform(20, 95)
            labels = _fmt({**base, "namespace": team, "pod": f"{team}-job-{block_start}",
                           "container": "main"} if team else base)
            key = (team or "", model_name, profile)
            first = block_start + (-(block_start - start) % interval)
            for ts in range(first, block_end, interval):
                util = 0 if (team is None or mean == 0) else \
                    max(0, min(100, round(mean + rng.uniform(-5, 5))))
                yield f"DCGM_FI_DEV_GPU_UTIL{labels} {util} {ts}\n"
                if truth is not None:
                    truth.samples += 1
                    truth.all_samples[(model_name, profile)] += 1
                    if team:
                        truth.allocated_samples[key] += 1
                        truth.util_sum[key] += util
            block_start = block_end
    # END SOLUTION
    yield "# EOF\n"


def planted(start: int, gpus: int = 3, hours: float = 2.0, util: float = 40.0,
            interval_s: int = 30, namespace: str = "team-a",
            model: str = "H100-80GB") -> str:
    """`gpus` GPUs allocated to `namespace` for `hours` at a flat `util` %."""
    lines = [f"# TYPE {METRIC} gauge"]
    for g in range(gpus):
        labels = _fmt({"gpu": str(g), "UUID": f"GPU-planted-{g}", "device": f"nvidia{g}",
                       "modelName": MODELS[model].dcgm_name, "Hostname": "node-0",
                       "namespace": namespace, "pod": f"job-{g}", "container": "main"})
        lines += [f"{METRIC}{labels} {util:g} {start + k * interval_s}"
                  for k in range(int(hours * 3600 / interval_s))]
    return "\n".join(lines) + "\n# EOF\n"


def write(fleet: Fleet, month: str, path: Path, seed: int = 7) -> Truth:
    start, end = month_bounds(month)
    truth = Truth(fleet.scrape_interval_s)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as handle:
        handle.writelines(synthesize(fleet, start, end, seed, truth))
    tmp.replace(path)
    return truth
