"""The data passed between the CLI, the worker subprocesses and the results files.

`SCHEMA_VERSION` is written into every results file; `results.load_results` refuses files of
another version rather than misreading them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlbench.stats import Summary

SCHEMA_VERSION = 1

Framework = Literal["torch", "tensorflow", "jax"]
FRAMEWORKS: tuple[Framework, ...] = ("torch", "tensorflow", "jax")
Mode = Literal["train", "infer"]
Scenario = Literal["single_stream", "offline", "server"]
SCENARIOS: tuple[Scenario, ...] = ("single_stream", "offline", "server")
DType = Literal["fp32", "bf16"]
Device = Literal["cpu", "gpu"]


class Job(BaseModel):
    """One measurement: a framework, a model, a mode (or scenario) and its knobs."""

    model_config = ConfigDict(extra="forbid")
    framework: Framework
    model: Literal["cnn", "transformer", "lstm"]
    model_spec: dict[str, Any]
    mode: Mode
    scenario: Scenario | None = None
    batch_size: int = Field(ge=1, le=65536)
    dtype: DType = "fp32"
    threads: int = Field(ge=1, le=1024)
    device: Device = "cpu"
    jit: bool = True
    channels_last: bool = False
    warmup: int = Field(3, ge=0)
    iterations: int = Field(20, ge=2)
    queries: int = Field(50, ge=2)
    server_qps: float | None = Field(None, gt=0)
    latency_bound_ms: float = Field(100.0, gt=0)
    learning_rate: float = Field(1e-3, gt=0)
    seed: int = 0
    trim_outliers: bool = False

    def key(self) -> str:
        """Identity used to pair results in `compare` (everything that changes the workload)."""
        parts = [self.framework, self.model, self.scenario or self.mode, f"bs{self.batch_size}",
                 self.dtype, f"t{self.threads}", self.device, "jit" if self.jit else "nojit"]
        if self.channels_last:
            parts.append("cl")
        return "/".join(parts)


class WorkerRequest(BaseModel):
    """What the parent sends to one `python -m mlbench.worker` process."""

    framework: Framework
    threads: int
    device: Device
    cpu_affinity: list[int] | None = None
    isolated: bool = False  # this worker runs one job only (per-job memory peaks)
    jobs: list[Job]


class Fingerprint(BaseModel):
    """Where a result was measured: enough to tell whether two results are comparable."""

    mlbench_version: str
    python: str
    platform: str
    cpu_model: str
    physical_cores: int | None
    logical_cores: int
    cpu_affinity: list[int]
    threads: int
    framework: str
    framework_version: str | None
    numpy_version: str
    device: str
    device_name: str
    extra: dict[str, str] = Field(default_factory=dict)


class Result(BaseModel):
    """The outcome of one job. `status` is ok, skipped (with reason) or error (with reason)."""

    job: Job
    key: str
    status: Literal["ok", "skipped", "error"]
    reason: str | None = None
    param_count: int | None = None
    samples_s: list[float] = Field(default_factory=list)
    # Median latency of each repeat (`run --repeats N`: N fresh worker processes); samples_s
    # and the statistics above are those of the first repeat. What `compare` gates on.
    run_medians_s: list[float] = Field(default_factory=list)
    latency: Summary | None = None
    throughput: float | None = None  # samples/s from the mean latency (or scenario wall time)
    throughput_ci95: tuple[float, float] | None = None
    loss_first: float | None = None
    loss_last: float | None = None
    memory: dict[str, float | None] = Field(default_factory=dict)
    scenario: dict[str, Any] | None = None
    channels_last_applied: bool = False
    # How `memory` is per job: "fresh worker per job" (peak_rss_mb is this job's own peak) or
    # "delta in a shared worker" (peak_rss_mb is the process peak so far; job_rss_delta_mb is
    # this job's growth over the RSS before it was built).
    memory_method: str | None = None
    worker_pid: int | None = None
    # What the framework really did (compute/param dtype, compiled function used, traces).
    applied: dict[str, Any] = Field(default_factory=dict)
    wall_s: float = 0.0
    env: Fingerprint | None = None


class ResultsFile(BaseModel):
    """The JSON document `mlbench run` writes."""

    schema_version: int = SCHEMA_VERSION
    created: str
    suite: str
    results: list[Result]
