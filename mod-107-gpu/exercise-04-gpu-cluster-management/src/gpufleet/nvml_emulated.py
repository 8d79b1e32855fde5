"""An emulated NVML with pynvml's function names, playing a scenario on a clock.

This is the one emulated piece on the GPU side (no GPU on these machines): the exporter
calls the same functions on `pynvml` or on an `EmulatedNvml`. Units follow NVML: memory in
bytes, power in mW, energy in mJ since driver load, utilisation in percent.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml

from gpufleet.profiles import MODELS

SCENARIOS = ("steady", "incident", "idle")


@dataclass
class EmulatedGpu:
    index: int
    model: str
    util: float = 0.0
    mem_used_mib: float = 0.0
    temp_c: float = 35.0
    power_w: float = 70.0
    energy_mj: float = 0.0
    row_remap_failure: int = 0
    mig_profile: str | None = None
    allocation: tuple[str, str] | None = None  # (namespace, pod)
    processes: list[tuple[int, float]] = field(default_factory=list)  # (pid, sm util %)

    @property
    def uuid(self) -> str:
        return f"GPU-{self.index:08x}-e000-4000-8000-00000000{self.index:04x}"


class EmulatedNvml:
    """NVML functions over emulated GPUs; `scenario` updates them from the elapsed time."""

    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU
    nvmlEventTypeXidCriticalError = pynvml.nvmlEventTypeXidCriticalError  # noqa: N815
    NVMLError = pynvml.NVMLError

    def __init__(self, gpus: list[EmulatedGpu], scenario: Callable[[EmulatedNvml, float], None]
                 | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.gpus = gpus
        self.scenario = scenario
        self.clock = clock
        self.started = clock()
        self.last = self.started
        self.events: deque[tuple[int, int]] = deque()  # (gpu index, xid)
        self.lock = threading.Lock()
        self.initialised = False

    # --- scenario control
    def inject_xid(self, index: int, xid: int) -> None:
        with self.lock:
            self.events.append((index, xid))

    def _advance(self) -> None:
        now = self.clock()
        dt, self.last = now - self.last, now
        if self.scenario is not None:
            self.scenario(self, now - self.started)
        for gpu in self.gpus:
            gpu.energy_mj += gpu.power_w * 1000.0 * max(dt, 0.0)

    # --- NVML API (subset, same names as pynvml)
    def nvmlInit(self) -> None:  # noqa: N802
        self.initialised = True

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.initialised = False

    def nvmlSystemGetDriverVersion(self) -> str:  # noqa: N802
        return "560.35.03-emulated"

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        self._advance()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> EmulatedGpu:  # noqa: N802
        if not 0 <= index < len(self.gpus):
            raise pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return self.gpus[index]

    def nvmlDeviceGetUUID(self, handle: EmulatedGpu) -> str:  # noqa: N802
        return handle.uuid

    def nvmlDeviceGetName(self, handle: EmulatedGpu) -> str:  # noqa: N802
        return MODELS[handle.model].dcgm_name

    def nvmlDeviceGetUtilizationRates(self, handle: EmulatedGpu) -> Any:  # noqa: N802
        return SimpleNamespace(gpu=round(handle.util), memory=int(handle.util / 2))

    def nvmlDeviceGetMemoryInfo(self, handle: EmulatedGpu) -> Any:  # noqa: N802
        total = MODELS[handle.model].memory_gib * 1024**3
        used = int(handle.mem_used_mib * 1024**2)
        return SimpleNamespace(total=total, used=used, free=total - used)

    def nvmlDeviceGetTemperature(self, handle: EmulatedGpu, sensor: int) -> int:  # noqa: N802
        return round(handle.temp_c)

    def nvmlDeviceGetPowerUsage(self, handle: EmulatedGpu) -> int:  # noqa: N802
        return int(handle.power_w * 1000)

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: EmulatedGpu) -> int:  # noqa: N802
        return int(handle.energy_mj)

    def nvmlDeviceGetMigMode(self, handle: EmulatedGpu) -> list[int]:  # noqa: N802
        mode = 1 if handle.mig_profile else 0
        return [mode, mode]

    def nvmlDeviceGetComputeRunningProcesses(self, handle: EmulatedGpu) -> list[Any]:  # noqa: N802
        return [SimpleNamespace(pid=pid, usedGpuMemory=int(handle.mem_used_mib * 1024**2
                                                        / max(len(handle.processes), 1)))
                for pid, _ in handle.processes]

    def nvmlDeviceGetProcessUtilization(self, handle: EmulatedGpu,  # noqa: N802
                                        last_seen: int) -> list[Any]:
        if not handle.processes:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_FOUND)
        return [SimpleNamespace(pid=pid, smUtil=int(util), memUtil=0, timeStamp=0)
                for pid, util in handle.processes]

    def nvmlDeviceGetRemappedRows(self, handle: EmulatedGpu) -> tuple[int, int, int, int]:  # noqa: N802
        return (0, 1 if handle.row_remap_failure else 0, 0, handle.row_remap_failure)

    def nvmlEventSetCreate(self) -> object:  # noqa: N802
        return object()

    def nvmlDeviceRegisterEvents(self, handle: EmulatedGpu, types: int,  # noqa: N802
                                 event_set: object) -> None:
        return None

    def nvmlEventSetWait(self, event_set: object, timeout_ms: int) -> Any:  # noqa: N802
        with self.lock:
            if not self.events:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_TIMEOUT)
            index, xid = self.events.popleft()
        return SimpleNamespace(device=self.gpus[index], eventData=xid,
                               eventType=pynvml.nvmlEventTypeXidCriticalError)


def fleet_of_four() -> list[EmulatedGpu]:
    """Node gpu-node-0: four H100s; 0 and 1 run team-llm's training, 2 is team-vision's."""
    gpus = [EmulatedGpu(i, "H100-80GB") for i in range(4)]
    gpus[0].allocation = ("team-llm", "train-0")
    gpus[1].allocation = ("team-llm", "train-1")
    gpus[2].allocation = ("team-vision", "notebook-0")
    return gpus


def _busy(gpu: EmulatedGpu, util: float, pid: int) -> None:
    gpu.util, gpu.mem_used_mib, gpu.temp_c = util, 60_000.0, 45 + util * 0.3
    gpu.power_w, gpu.processes = 100 + util * 5, [(pid, util)]


def _idle(gpu: EmulatedGpu) -> None:
    gpu.util, gpu.mem_used_mib, gpu.temp_c, gpu.power_w = 0.0, 0.0, 33.0, 70.0
    gpu.processes = []


def scenario(name: str, after: float = 2.0, duration: float = 10.0
             ) -> Callable[[EmulatedNvml, float], None]:
    """`steady`: busy training, one allocated GPU busy too. `idle`: GPU 2 stays allocated and
    idle. `incident`: after `after` s, XID 79 on GPU 0 and GPU 2 idle for `duration` s, then
    both recover."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    fired: set[int] = set()

    def play(nvml: EmulatedNvml, elapsed: float) -> None:
        g = nvml.gpus
        _busy(g[0], 85.0, 4100)
        _busy(g[1], 70.0, 4101)
        _idle(g[3])
        in_incident = after <= elapsed < after + duration
        if name == "steady" or (name == "incident" and not in_incident):
            _busy(g[2], 40.0, 4200)
        else:
            _idle(g[2])
        if name == "incident" and in_incident and 0 not in fired:
            fired.add(0)
            nvml.inject_xid(0, 79)

    return play


def emulated(name: str, after: float = 2.0, duration: float = 10.0) -> EmulatedNvml:
    return EmulatedNvml(fleet_of_four(), scenario(name, after, duration))
