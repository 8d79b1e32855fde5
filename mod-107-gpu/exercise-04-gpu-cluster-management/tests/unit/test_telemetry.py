"""Telemetry through NVML's function names, emulated; dcgm-exporter's format."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gpufleet import nvml_emulated, telemetry
from tests.helpers import run_cli


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.mark.points(3)
def test_exposition_uses_dcgm_names_types_and_labels() -> None:
    nvml = nvml_emulated.emulated("steady")
    text = telemetry.exposition(telemetry.Collector(nvml, "gpu-node-0").read(), "gpu-node-0",
                                emulated=True)
    assert "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter" in text
    assert "# TYPE DCGM_FI_DEV_GPU_UTIL gauge" in text
    parsed = families(text)
    for name in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_GPU_TEMP",
                 "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_XID_ERRORS"):
        assert name in parsed
    util = {s.labels["gpu"]: s for s in parsed["DCGM_FI_DEV_GPU_UTIL"].samples}  # type: ignore[attr-defined]
    assert util["0"].value == 85 and util["0"].labels["namespace"] == "team-llm"
    assert util["0"].labels["pod"] == "train-0"
    assert util["0"].labels["modelName"] == "NVIDIA H100 80GB HBM3"
    assert util["0"].labels["Hostname"] == "gpu-node-0"
    assert "namespace" not in util["3"].labels
    assert all(s.labels["emulated"] == "true" for s in util.values())
    power = {s.labels["gpu"]: s.value for s in parsed["DCGM_FI_DEV_POWER_USAGE"].samples}  # type: ignore[attr-defined]
    assert power["0"] == pytest.approx(525.0)  # W, from NVML's mW


@pytest.mark.points(2)
def test_xid_event_is_held_then_cleared_and_energy_counts_up() -> None:
    clock = Clock()
    nvml = nvml_emulated.EmulatedNvml(nvml_emulated.fleet_of_four(),
                                      nvml_emulated.scenario("incident", after=5, duration=10),
                                      clock=clock)
    collector = telemetry.Collector(nvml, "n", xid_hold_s=3, clock=clock)
    assert [r.xid for r in collector.read()] == [0, 0, 0, 0]
    clock.now = 6
    first = collector.read()
    assert first[0].xid == 79 and first[2].util == 0 and first[2].allocation is not None
    clock.now = 8.5
    assert collector.read()[0].xid == 79
    clock.now = 9.5
    later = collector.read()
    assert later[0].xid == 0
    assert later[0].energy_mj > first[0].energy_mj
    clock.now = 16
    assert collector.read()[2].util == 40


@pytest.mark.points(1)
@pytest.mark.hidden
def test_process_utilisation_per_pid() -> None:
    nvml = nvml_emulated.emulated("steady")
    nvml.gpus[1].row_remap_failure = 1
    readings = telemetry.Collector(nvml, "n").read()
    assert [r.row_remap_failure for r in readings] == [0, 1, 0, 0]
    assert readings[0].processes == {4100: 85.0}
    assert readings[3].processes == {}
    text = telemetry.exposition(readings, "n", emulated=False)
    assert 'pid="4100"' in text and "emulated" not in text


@pytest.mark.points(2)
def test_exporter_without_gpu_exits_5_unless_emulated() -> None:
    result = run_cli("exporter")
    assert result.returncode == 5
    assert result.stderr.strip().splitlines() == [
        "error: NVML: NVML Shared Library Not Found (no GPU here: start with --emulate "
        "SCENARIO)"]
    once = run_cli("exporter", "--emulate", "steady", "--once", "--hostname", "n0")
    assert once.returncode == 0
    assert 'DCGM_FI_DEV_GPU_UTIL{gpu="0"' in once.stdout
    assert run_cli("exporter", "--emulate", "nope", "--once").returncode == 2


@pytest.mark.gpu
@pytest.mark.points(1)
def test_real_nvml_reads_a_gpu() -> None:
    import pynvml

    pynvml.nvmlInit()
    try:
        readings = telemetry.Collector(pynvml, "real").read()
    finally:
        pynvml.nvmlShutdown()
    assert readings and all(r.uuid.startswith(("GPU-", "MIG-")) for r in readings)
    assert all(0 <= r.util <= 100 and r.temp_c > 0 for r in readings)
