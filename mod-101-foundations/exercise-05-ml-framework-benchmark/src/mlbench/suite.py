"""Benchmark suites: a YAML file (or CLI flags) expanded into the list of jobs to run."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mlbench.models import MODEL_NAMES, PRESETS, param_count, spec_for
from mlbench.schema import FRAMEWORKS, SCENARIOS, DType, Framework, Job, Mode, Scenario


class SuiteError(ValueError):
    """A suite that cannot be run; the message is one line naming the problem."""


# "auto" is each framework's idiomatic fast path: PyTorch eager, TF graph (tf.function)
# without XLA, JAX jit. true/false force XLA/torch.compile on or off everywhere.
AUTO_JIT: dict[str, bool] = {"torch": False, "tensorflow": False, "jax": True}


def _all_frameworks() -> list[Framework]:
    return list(FRAMEWORKS)


def _all_models() -> list[str] | dict[str, dict[str, Any]]:
    return [str(m) for m in MODEL_NAMES]


def _modes() -> list[Mode]:
    return ["train", "infer"]


def _dtypes() -> list[DType]:
    return ["fp32"]


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "default"
    size: Literal["tiny", "small"] = "small"
    frameworks: list[Framework] = Field(default_factory=_all_frameworks)
    models: list[str] | dict[str, dict[str, Any]] = Field(default_factory=_all_models)
    modes: list[Mode] = Field(default_factory=_modes)
    batch_sizes: list[int] = Field(default_factory=lambda: [1, 32])
    dtypes: list[DType] = Field(default_factory=_dtypes)
    threads: list[int] = Field(default_factory=lambda: [2])
    device: Literal["cpu", "gpu"] = "cpu"
    jit: Literal["auto"] | bool | list[bool] = "auto"
    channels_last: list[bool] = Field(default_factory=lambda: [False])
    scenarios: list[Scenario] = Field(default_factory=list)
    warmup: int = Field(3, ge=0, le=10000)
    iterations: int = Field(20, ge=2, le=100000)
    queries: int = Field(50, ge=2, le=1000000)
    server_qps: float | None = Field(None, gt=0)
    latency_bound_ms: float = Field(100.0, gt=0)
    cpu_affinity: list[int] | None = None
    trim_outliers: bool = False
    seed: int = 0
    # Each job is measured in this many fresh worker processes: `compare` needs >= 3 to
    # tell a slowdown from run-to-run noise.
    repeats: int = Field(1, ge=1, le=50)
    # One fresh worker process per job (not per framework): exact per-job memory peaks,
    # JAX's process-lifetime device peak included, at the cost of a framework import per job.
    isolate_jobs: bool = False

    @field_validator("batch_sizes")
    @classmethod
    def _batches(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("at least one batch size is needed")
        bad = [b for b in v if b < 1 or b > 65536]
        if bad:
            raise ValueError(f"batch sizes must be between 1 and 65536, got {bad}")
        return list(dict.fromkeys(v))

    @field_validator("threads")
    @classmethod
    def _threads(cls, v: list[int]) -> list[int]:
        if not v or any(t < 1 for t in v):
            raise ValueError("thread counts must be >= 1")
        return v

    @field_validator("frameworks", "modes", "dtypes")
    @classmethod
    def _nonempty(cls, v: list[Any]) -> list[Any]:
        if not v:
            raise ValueError("must not be empty")
        return list(dict.fromkeys(v))

    def model_overrides(self) -> dict[str, dict[str, Any]]:
        items = self.models if isinstance(self.models, dict) else {m: {} for m in self.models}
        out: dict[str, dict[str, Any]] = {}
        for name, over in items.items():
            if name not in MODEL_NAMES:
                raise SuiteError(f"unknown model {name!r} (choose from {', '.join(MODEL_NAMES)})")
            out[name] = dict(over or {})
        if not out:
            raise SuiteError("the suite names no models")
        return out

    def jit_values(self, framework: str) -> list[bool]:
        if self.jit == "auto":
            return [AUTO_JIT[framework]]
        return self.jit if isinstance(self.jit, list) else [self.jit]


def _fmt(exc: ValidationError, source: str) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "suite"
        parts.append(f"{loc}: {err['msg']}")
    return f"{source}: " + "; ".join(parts)


def load_suite(path: Path | None, overrides: dict[str, Any] | None = None) -> Suite:
    """Read a YAML suite (or the defaults) and apply CLI overrides; SuiteError on bad input."""
    data: dict[str, Any] = {}
    source = str(path) if path else "suite"
    if path is not None:
        try:
            raw = yaml.safe_load(Path(path).read_text())
        except FileNotFoundError as exc:
            raise SuiteError(f"suite file not found: {path}") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise SuiteError(f"{path}: malformed YAML{where}") from exc
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise SuiteError(f"{path}: a suite must be a YAML mapping")
        data = raw
    data |= {k: v for k, v in (overrides or {}).items() if v is not None}
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        raise SuiteError(_fmt(exc, source)) from exc
    expand(suite)  # validates model overrides too
    return suite


def expand(suite: Suite) -> list[Job]:
    """Every (framework, model, mode/scenario, batch, dtype, threads, jit, layout) job."""
    # BEGIN SOLUTION: expand the suite into every framework, model, option and scenario job
    jobs: list[Job] = []
    models = suite.model_overrides()
    specs = {}
    for name, over in models.items():
        try:
            spec = spec_for(name, suite.size, over)
        except (ValidationError, ValueError) as exc:
            msg = "; ".join(e["msg"] for e in exc.errors()) if isinstance(
                exc, ValidationError) else str(exc)
            raise SuiteError(f"model {name}: {msg}") from exc
        specs[name] = spec.model_dump()
    common: dict[str, Any] = {
              "warmup": suite.warmup, "iterations": suite.iterations, "queries": suite.queries,
              "server_qps": suite.server_qps, "latency_bound_ms": suite.latency_bound_ms,
              "seed": suite.seed, "trim_outliers": suite.trim_outliers, "device": suite.device}
    for fw, model in itertools.product(suite.frameworks, models):
        layouts = [cl for cl in dict.fromkeys(suite.channels_last)
                   if not cl or (fw == "torch" and model == "cnn")] or [False]
        for dtype, threads, jit, cl in itertools.product(
                suite.dtypes, suite.threads, suite.jit_values(fw), layouts):
            base: dict[str, Any] = {"framework": fw, "model": model, "model_spec": specs[model],
                    "dtype": dtype, "threads": threads, "jit": jit, "channels_last": cl,
                    **common}
            for mode, bs in itertools.product(suite.modes, suite.batch_sizes):
                jobs.append(Job(mode=mode, batch_size=bs, **base))
            for sc in suite.scenarios:
                bs = max(suite.batch_sizes) if sc == "offline" else 1
                jobs.append(Job(mode="infer", scenario=sc, batch_size=bs, **base))
    return jobs
    # END SOLUTION


def describe_models(size: str) -> list[dict[str, Any]]:
    """Model names, their preset hyper-parameters and exact parameter counts."""
    return [{"model": name, "size": size, "params": param_count(PRESETS[size][name]),
             "spec": PRESETS[size][name].model_dump()} for name in MODEL_NAMES]


def scenarios() -> tuple[str, ...]:
    return SCENARIOS
