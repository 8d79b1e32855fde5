"""Read GPU telemetry through NVML (pynvml, or the emulated NVML with the same names) and
render it in dcgm-exporter's exposition format."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pynvml

from gpufleet.errors import UnavailableError

# dcgm-exporter's default-counters.csv: name, type, help (dcgm-exporter 3.3.x)
METRICS: dict[str, tuple[str, str]] = {
    "DCGM_FI_DEV_GPU_UTIL": ("gauge", "GPU utilization (in %)."),
    "DCGM_FI_DEV_FB_USED": ("gauge", "Framebuffer memory used (in MiB)."),
    "DCGM_FI_DEV_GPU_TEMP": ("gauge", "GPU temperature (in C)."),
    "DCGM_FI_DEV_POWER_USAGE": ("gauge", "Power draw (in W)."),
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": (
        "counter", "Total energy consumption since boot (in mJ)."),
    "DCGM_FI_DEV_XID_ERRORS": ("gauge", "Value of the last XID error encountered."),
    "DCGM_FI_DEV_ROW_REMAP_FAILURE": ("gauge", "Whether remapping of rows has failed"),
}
# Not a dcgm-exporter field: per-process SM utilisation (nvmlDeviceGetProcessUtilization),
# which the report uses to split time-sliced GPUs fairly (dcgm-exporter#587).
PROCESS_METRIC = "gpufleet_process_sm_util"


@dataclass
class GpuReading:
    index: int
    uuid: str
    model_name: str
    util: float
    fb_used_mib: float
    temp_c: float
    power_w: float
    energy_mj: float
    mig_mode: int
    xid: int = 0
    row_remap_failure: int = 0
    processes: dict[int, float] = field(default_factory=dict)  # pid -> SM util %
    allocation: tuple[str, str] | None = None
    mig_profile: str | None = None


def init_nvml(nvml: Any) -> None:
    """nvmlInit, turning a missing driver into UnavailableError (exit 5) with NVML's text."""
    try:
        nvml.nvmlInit()
    except pynvml.NVMLError as exc:
        raise UnavailableError(f"NVML: {exc} (no GPU here: start with --emulate SCENARIO)") \
            from exc


class Collector:
    """Polls NVML; keeps the last XID per GPU for `xid_hold_s` seconds (then reports 0)."""

    def __init__(self, nvml: Any, hostname: str, xid_hold_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.nvml = nvml
        self.hostname = hostname
        self.xid_hold_s = xid_hold_s
        self.clock = clock
        self.xids: dict[str, tuple[int, float]] = {}
        self.event_set = nvml.nvmlEventSetCreate()
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            with contextlib.suppress(pynvml.NVMLError):
                nvml.nvmlDeviceRegisterEvents(handle, pynvml.nvmlEventTypeXidCriticalError,
                                              self.event_set)

    def _drain_events(self) -> None:
        while True:
            try:
                event = self.nvml.nvmlEventSetWait(self.event_set, 0)
            except pynvml.NVMLError:
                return
            uuid = self.nvml.nvmlDeviceGetUUID(event.device)
            self.xids[str(uuid)] = (int(event.eventData), self.clock())

    def read(self) -> list[GpuReading]:
        # BEGIN SOLUTION
        nvml = self.nvml
        count = nvml.nvmlDeviceGetCount()
        self._drain_events()
        now = self.clock()
        readings = []
        for index in range(count):
            h = nvml.nvmlDeviceGetHandleByIndex(index)
            uuid = str(nvml.nvmlDeviceGetUUID(h))
            try:
                utils = nvml.nvmlDeviceGetProcessUtilization(h, 0)
                processes = {int(p.pid): float(p.smUtil) for p in utils}
            except pynvml.NVMLError:
                processes = {int(p.pid): 0.0 for p in
                             nvml.nvmlDeviceGetComputeRunningProcesses(h)}
            try:  # (corrected rows, uncorrected rows, remap pending, remap failed)
                remap_failed = int(nvml.nvmlDeviceGetRemappedRows(h)[3])
            except pynvml.NVMLError:
                remap_failed = 0
            xid, seen = self.xids.get(uuid, (0, -1e18))
            readings.append(GpuReading(
                index=index, uuid=uuid, model_name=str(nvml.nvmlDeviceGetName(h)),
                util=float(nvml.nvmlDeviceGetUtilizationRates(h).gpu),
                fb_used_mib=nvml.nvmlDeviceGetMemoryInfo(h).used / 1024**2,
                temp_c=float(nvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU)),
                power_w=nvml.nvmlDeviceGetPowerUsage(h) / 1000.0,
                energy_mj=float(nvml.nvmlDeviceGetTotalEnergyConsumption(h)),
                mig_mode=int(nvml.nvmlDeviceGetMigMode(h)[0]),
                xid=xid if now - seen < self.xid_hold_s else 0,
                row_remap_failure=remap_failed,
                processes=processes,
                allocation=getattr(h, "allocation", None),
                mig_profile=getattr(h, "mig_profile", None),
            ))
        return readings
        # END SOLUTION


def _labels(pairs: Mapping[str, str]) -> str:
    body = ",".join(f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                    for k, v in pairs.items())
    return "{" + body + "}"


def _value(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


def exposition(readings: list[GpuReading], hostname: str, emulated: bool) -> str:
    """Prometheus text format with dcgm-exporter's names, types and labels."""
    # BEGIN SOLUTION
    lines: list[str] = []
    rows: dict[str, list[tuple[dict[str, str], float]]] = {name: [] for name in METRICS}
    process_rows: list[tuple[dict[str, str], float]] = []
    for r in readings:
        labels = {"gpu": str(r.index), "UUID": r.uuid, "device": f"nvidia{r.index}",
                  "modelName": r.model_name, "Hostname": hostname}
        if r.mig_profile:
            labels["GPU_I_PROFILE"] = r.mig_profile
            labels["GPU_I_ID"] = "1"
        if r.allocation:
            labels.update({"namespace": r.allocation[0], "pod": r.allocation[1],
                           "container": "main"})
        if emulated:
            labels["emulated"] = "true"
        for name, value in (("DCGM_FI_DEV_GPU_UTIL", r.util),
                            ("DCGM_FI_DEV_FB_USED", r.fb_used_mib),
                            ("DCGM_FI_DEV_GPU_TEMP", r.temp_c),
                            ("DCGM_FI_DEV_POWER_USAGE", r.power_w),
                            ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", r.energy_mj),
                            ("DCGM_FI_DEV_XID_ERRORS", r.xid),
                            ("DCGM_FI_DEV_ROW_REMAP_FAILURE", r.row_remap_failure)):
            rows[name].append((labels, value))
        for pid, util in sorted(r.processes.items()):
            process_rows.append(({**labels, "pid": str(pid)}, util))
    for name, (kind, help_text) in METRICS.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{_labels(labels)} {_value(v)}" for labels, v in rows[name]]
    lines += [f"# HELP {PROCESS_METRIC} SM utilization of one process (in %).",
              f"# TYPE {PROCESS_METRIC} gauge"]
    lines += [f"{PROCESS_METRIC}{_labels(labels)} {_value(v)}" for labels, v in process_rows]
    return "\n".join(lines) + "\n"
    # END SOLUTION
