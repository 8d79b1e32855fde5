"""Background sampling of memory and utilisation while a job runs.

CPU: peak RSS and mean process CPU utilisation (psutil, percent of the cores the process may
use). GPU: NVML utilisation and memory when `pynvml` (package nvidia-ml-py) and a device exist.
Sampling every `interval` seconds in a daemon thread costs well under 1% (see benchmarks).
"""

from __future__ import annotations

import os
import threading
from types import TracebackType
from typing import Any

import psutil


def _nvml_handle(index: int) -> Any | None:
    try:
        import pynvml  # type: ignore[import-not-found,unused-ignore]

        pynvml.nvmlInit()
        return pynvml.nvmlDeviceGetHandleByIndex(index)
    except Exception:  # no library, no driver or no device: utilisation is simply not sampled
        return None


class Monitor:
    """Context manager: `with Monitor(gpu_index) as m: ...` then read `m.result()`."""

    def __init__(self, interval: float = 0.05, gpu_index: int | None = None) -> None:
        self.interval = interval
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mlbench-monitor", daemon=True)
        self._peak_rss = 0
        self._cpu: list[float] = []
        self._gpu_util: list[float] = []
        self._gpu_mem_peak = 0
        self._nvml = _nvml_handle(gpu_index) if gpu_index is not None else None
        self._cores = len(os.sched_getaffinity(0))

    def _sample(self) -> None:
        # BEGIN SOLUTION: sample peak RSS, CPU percent per core and NVML GPU utilisation, memory
        self._peak_rss = max(self._peak_rss, self._proc.memory_info().rss)
        self._cpu.append(self._proc.cpu_percent(None) / self._cores)
        if self._nvml is not None:
            import pynvml

            self._gpu_util.append(float(pynvml.nvmlDeviceGetUtilizationRates(self._nvml).gpu))
            used = int(pynvml.nvmlDeviceGetMemoryInfo(self._nvml).used)
            self._gpu_mem_peak = max(self._gpu_mem_peak, used)
        # END SOLUTION

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Monitor:
        self._proc.cpu_percent(None)  # prime: the first call always returns 0
        self._peak_rss = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def result(self) -> dict[str, float | None]:
        """peak_rss_mb, cpu_util_pct (mean), gpu_util_pct and nvml_mem_peak_mb (None w/o NVML)."""
        cpu = self._cpu[:-1] or self._cpu  # the final sample covers a partial interval
        return {
            "peak_rss_mb": self._peak_rss / 2**20,
            "cpu_util_pct": sum(cpu) / len(cpu) if cpu else None,
            "gpu_util_pct": (sum(self._gpu_util) / len(self._gpu_util)
                             if self._gpu_util else None),
            "nvml_mem_peak_mb": self._gpu_mem_peak / 2**20 if self._nvml is not None else None,
        }
