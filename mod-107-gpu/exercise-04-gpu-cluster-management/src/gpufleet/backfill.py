"""Synthetic dcgm-exporter history for a fleet, as OpenMetrics for `promtool tsdb
create-blocks-from openmetrics` (`load_blocks`: one block per month, not 360 of 2 h).

Deterministic from the seed: each GPU (or MIG instance) is, per 6-hour block, free or
allocated to a team (weighted by its quota in that pool) at a block utilisation with
per-sample noise; some allocations are idle (0 %). `Truth` keeps the exact totals.

Time-sliced GPUs follow dcgm-exporter's `--kubernetes-virtual-gpus` layout: one
`DCGM_FI_DEV_GPU_UTIL` series per pod sharing the GPU, carrying a `vgpu` label and the same
device-level value (dcgm-exporter#587), plus `gpufleet_process_sm_util` per pod with that
pod's own SM utilisation (what the report splits the GPU by). A shared GPU nobody is
allocated to exports one series without pod or `vgpu` labels."""

from __future__ import annotations

import calendar
import datetime as dt
import random
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gpufleet.errors import UnavailableError
from gpufleet.fleet import Fleet
from gpufleet.profiles import MODELS

BLOCK_S = 6 * 3600
METRIC = "DCGM_FI_DEV_GPU_UTIL"
PROCESS_METRIC = "gpufleet_process_sm_util"


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
    replicas: int = 1  # time-slicing replicas (1: not shared)

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
    # time-sliced GPUs, per (namespace, modelName): GPU-samples after the fair split
    # (SM-utilisation shares; even split when nobody computed) and the summed SM %
    shared_allocated: dict[tuple[str, str], float] = field(
        default_factory=lambda: defaultdict(float))
    shared_sm_sum: dict[tuple[str, str], float] = field(
        default_factory=lambda: defaultdict(float))


def devices(fleet: Fleet) -> list[Device]:
    out = []
    for pool in fleet.pools:
        for g in range(pool.gpus):
            node = f"{pool.name}-node-{g // pool.gpus_per_node}"
            uuid = f"GPU-{pool.name}-{g:04d}"
            local = g % pool.gpus_per_node
            if pool.mig:
                instance = 0
                for profile, count in sorted(pool.mig.items()):
                    for _ in range(count):
                        instance += 1
                        out.append(Device(pool.name, pool.model, node, local, uuid, profile,
                                          instance))
            else:
                out.append(Device(pool.name, pool.model, node, local, uuid,
                                  replicas=pool.time_slicing_replicas or 1))
    return out


def _fmt(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def synthesize(fleet: Fleet, start: int, end: int, seed: int = 7,
               truth: Truth | None = None) -> Iterator[str]:
    """OpenMetrics lines (ending with `# EOF`) for [start, end) at the fleet's interval."""
    interval = fleet.scrape_interval_s
    yield f"# HELP {METRIC} GPU utilization (in %).\n# TYPE {METRIC} gauge\n"
    # BEGIN SOLUTION
    process_lines: list[str] = []
    for index, device in enumerate(devices(fleet)):
        rng = random.Random(f"{seed}/{index}")  # noqa: S311 - synthetic data, seeded
        weights = [(t.namespace, t.quota_for(device.pool, device.profile))
                   for t in fleet.teams]
        weights = [(ns, w) for ns, w in weights if w > 0]
        base = device.labels()
        model_name, profile = base["modelName"], device.profile or ""
        block_start = start
        while block_start < end:
            block_end = min(block_start + BLOCK_S, end)
            first = block_start + (-(block_start - start) % interval)
            if device.replicas > 1:
                yield from _shared_block(rng, device, base, weights, block_start,
                                         range(first, block_end, interval), truth,
                                         process_lines)
                block_start = block_end
                continue
            team = None
            if weights and rng.random() < 0.75:
                team = rng.choices([ns for ns, _ in weights], [w for _, w in weights])[0]
            mean = 0.0 if rng.random() < 0.1 else rng.uniform(20, 95)
            labels = _fmt({**base, "namespace": team, "pod": f"{team}-job-{block_start}",
                           "container": "main"} if team else base)
            key = (team or "", model_name, profile)
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
    if process_lines:
        yield f"# HELP {PROCESS_METRIC} SM utilization of one process (in %).\n"
        yield f"# TYPE {PROCESS_METRIC} gauge\n"
        yield from process_lines
    # END SOLUTION
    yield "# EOF\n"


def _shared_block(rng: random.Random, device: Device, base: dict[str, str],
                  weights: list[tuple[str, int]], block_start: int, stamps: range,
                  truth: Truth | None, process_lines: list[str]) -> Iterator[str]:
    """One 6-hour block of a time-sliced GPU: 0..min(replicas, 3) pods of weighted teams,
    each with its own SM utilisation (summing to at most 95 %); 10 % of blocks are idle."""
    model_name = base["modelName"]
    pods: list[tuple[str, dict[str, str], float]] = []  # namespace, labels, mean SM %
    count = rng.randint(0, min(device.replicas, 3)) if weights else 0
    idle = rng.random() < 0.1
    for slot in range(count):
        team = rng.choices([ns for ns, _ in weights], [w for _, w in weights])[0]
        labels = {**base, "namespace": team, "pod": f"{team}-share-{block_start}-{slot}",
                  "container": "main", "vgpu": str(slot)}
        mean = 0.0 if idle else rng.uniform(5, 95 / count - 3)
        pods.append((team, labels, mean))
    free = _fmt(base)
    device_series = [f"{METRIC}{_fmt(labels)}" for _, labels, _ in pods]
    process_series = [f"{PROCESS_METRIC}{_fmt({**labels, 'pid': str(4000 + slot)})}"
                      for slot, (_, labels, _) in enumerate(pods)]
    for ts in stamps:
        sms = [0 if mean == 0 else max(0, round(mean + rng.uniform(-3, 3)))
               for _, _, mean in pods]
        util = min(100, sum(sms))
        if not pods:
            yield f"{METRIC}{free} 0 {ts}\n"
        for series, process, sm in zip(device_series, process_series, sms, strict=True):
            yield f"{series} {util} {ts}\n"
            process_lines.append(f"{process} {sm} {ts}\n")
        if truth is None:
            continue
        truth.samples += max(len(pods), 1) + len(pods)
        truth.all_samples[(model_name, "")] += 1
        total = sum(sms)
        for (team, _, _), sm in zip(pods, sms, strict=True):
            share = sm / total if total > 0 else 1 / len(pods)
            truth.shared_allocated[(team, model_name)] += share
            truth.shared_sm_sum[(team, model_name)] += sm


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


def planted_shared(start: int, interval_s: int = 30, model: str = "L4") -> str:
    """Two time-sliced GPUs, hand-worked in the report tests (dcgm `vgpu` layout):

    GPU 0: pods of team-a (SM 60 %) and team-b (SM 20 %) for 2 h, then both idle for 1 h.
    GPU 1: team-a (SM 50 %) and team-c (a process at 0 % SM) for 2 h."""
    name = MODELS[model].dcgm_name
    steps = 3600 // interval_s
    plan = [  # gpu, namespace, pod, SM % per hour
        (0, "team-a", "a-0", [60, 60, 0]),
        (0, "team-b", "b-0", [20, 20, 0]),
        (1, "team-a", "a-1", [50, 50]),
        (1, "team-c", "c-0", [0, 0]),
    ]
    device, process = [f"# TYPE {METRIC} gauge"], [f"# TYPE {PROCESS_METRIC} gauge"]
    for slot, (gpu, namespace, pod, hourly) in enumerate(plan):
        labels = {"gpu": str(gpu), "UUID": f"GPU-shared-{gpu}", "device": f"nvidia{gpu}",
                  "modelName": name, "Hostname": "node-0", "namespace": namespace,
                  "pod": pod, "container": "main", "vgpu": str(slot % 2)}
        for hour, sm in enumerate(hourly):
            # the device-level value every pod on the GPU gets (dcgm-exporter#587)
            util = sum(h[hour] for g, _, _, h in plan if g == gpu)
            for k in range(hour * steps, (hour + 1) * steps):
                ts = start + k * interval_s
                device.append(f"{METRIC}{_fmt(labels)} {util} {ts}")
                process.append(f"{PROCESS_METRIC}{_fmt({**labels, 'pid': str(100 + slot)})}"
                               f" {sm} {ts}")
    return "\n".join(device + process) + "\n# EOF\n"


# promtool cuts blocks at 2 h by default: a month becomes 360 blocks, and writing (then
# opening) them costs far more than the samples. 31 days keeps a month in one or two blocks.
MAX_BLOCK_DURATION = "744h"


def load_blocks(data_dir: Path, openmetrics: Path) -> None:
    """`promtool tsdb create-blocks-from openmetrics` into `data_dir` (Prometheus stopped),
    with `--max-block-duration` so that a month is one block (the shared
    `backfill_prometheus` keeps promtool's 2 h default)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        raise UnavailableError("promtool not found (apt-get install prometheus)")
    data_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
         f"--max-block-duration={MAX_BLOCK_DURATION}", str(openmetrics), str(data_dir)],
        capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        raise UnavailableError(f"promtool backfill failed: {detail[-1]}")


def write(fleet: Fleet, month: str, path: Path, seed: int = 7) -> Truth:
    start, end = month_bounds(month)
    truth = Truth(fleet.scrape_interval_s)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as handle:
        handle.writelines(synthesize(fleet, start, end, seed, truth))
    tmp.replace(path)
    return truth
