"""Settings for disttrain: defaults < config file < environment (prefix DISTTRAIN_).

`TrainConfig` is the one config every strategy runs: the model, the data, the batch geometry,
checkpointing, communication options and the straggler detector. The CLI builds it from a
YAML/TOML file (`--config`), then `DISTTRAIN_*` environment variables, then flags.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import BaseModel, Field, field_validator

from disttrain.errors import ConfigurationError

STRATEGIES = ("single", "ddp", "fsdp", "ray", "deepspeed")
Strategy = Literal["single", "ddp", "fsdp", "ray", "deepspeed"]
CommHook = Literal["none", "fp16", "bf16", "powersgd"]
StragglerAction = Literal["log", "metric", "exit"]


class Delay(BaseModel):
    """A planted delay: `rank=R,ms=M[,phase=data|compute]` sleeps M ms per step on rank R."""

    rank: int = Field(ge=0)
    ms: float = Field(ge=0)
    phase: Literal["data", "compute"] = "compute"

    @classmethod
    def parse(cls, text: str) -> Delay:
        fields: dict[str, str] = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in {"rank", "ms", "phase"}:
                raise ConfigurationError(
                    f"--inject-delay {text!r}: expected rank=R,ms=M[,phase=data|compute]")
            fields[key.strip()] = value.strip()
        if "rank" not in fields or "ms" not in fields:
            raise ConfigurationError(f"--inject-delay {text!r}: both rank= and ms= are needed")
        try:
            return cls(rank=int(fields["rank"]), ms=float(fields["ms"]),
                       phase=fields.get("phase", "compute"))  # type: ignore[arg-type]
        except ValueError as exc:
            raise ConfigurationError(f"--inject-delay {text!r}: {exc}".splitlines()[0]) from exc


class TrainConfig(BaseModel):
    """One training run. Every field has a default: `disttrain train` works with no config."""

    model_config = {"extra": "forbid"}

    name: str = "run"
    strategy: Strategy = "ddp"
    # model: an MLP of `blocks` residual blocks (FSDP2 shards each block, then the root)
    in_features: int = Field(default=16, ge=1)
    hidden: int = Field(default=64, ge=2)
    blocks: int = Field(default=2, ge=1)
    # data: a seeded synthetic regression set, identical on every rank
    samples: int = Field(default=2048, ge=8)
    seed: int = 0
    # batch geometry: global batch = per_rank_batch x world size x accumulation steps
    global_batch: int = Field(default=64, ge=1)
    accumulation_steps: int = Field(default=1, ge=1)
    steps: int = Field(default=40, ge=1)
    lr: float = Field(default=0.05, gt=0)
    momentum: float = Field(default=0.9, ge=0, lt=1)
    warmup_steps: int = Field(default=5, ge=0)
    # checkpoints
    checkpoint_dir: str | None = None
    checkpoint_every: int = Field(default=10, ge=0)
    keep_last: int = Field(default=3, ge=1)
    resume: bool = True
    # communication (DDP) and precision (FSDP)
    bucket_cap_mb: float = Field(default=25.0, gt=0)
    comm_hook: CommHook = "none"
    powersgd_rank: int = Field(default=1, ge=1)
    fsdp_bf16: bool = True
    # straggler detection (one 4-byte all_reduce per step when on)
    straggler: bool = False
    straggler_window: int = Field(default=10, ge=1)
    straggler_threshold_ms: float = Field(default=20.0, ge=0)
    straggler_action: StragglerAction = "log"
    inject_delay: Delay | None = None
    # fault injection: SIGKILL rank `kill_rank` when it reaches `kill_at_step` (first attempt)
    kill_at_step: int | None = None
    kill_rank: int = 1
    # per-process threads (benchmarks pin 1 so 2 ranks do not fight over 2 cores)
    threads: int | None = Field(default=None, ge=1)
    device: Literal["auto", "cpu", "cuda"] = "auto"

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
            raise ValueError("name may hold letters, digits, '_', '.', '-' only")
        return value

    def per_rank_batch(self, world_size: int) -> int:
        """The batch one rank feeds per micro-step; raises when the world does not divide."""
        return per_rank_batch(self.global_batch, world_size, self.accumulation_steps)

    def overrides(self, **changes: Any) -> TrainConfig:
        return self.model_validate({**self.model_dump(), **changes})


def per_rank_batch(global_batch: int, world_size: int, accumulation_steps: int) -> int:
    """global batch = per-rank batch x world x accumulation: return the per-rank batch.

    A global batch the product does not divide is a configuration error: silently rounding it
    would train on another batch than the one the learning rate was tuned for, and the
    single-process equivalence (feature 4) would no longer hold.
    """
    # BEGIN SOLUTION
    if world_size < 1 or accumulation_steps < 1:
        raise ConfigurationError("world size and accumulation steps must be >= 1")
    divisor = world_size * accumulation_steps
    if global_batch % divisor:
        raise ConfigurationError(
            f"global batch {global_batch} is not divisible by world size {world_size} x "
            f"accumulation steps {accumulation_steps}; pick a multiple of {divisor}")
    return global_batch // divisor
    # END SOLUTION


class Settings(ExerciseSettings):
    """Tool settings: where runs and checkpoints go, the rendezvous host and port."""

    model_config = settings_config(env_prefix="DISTTRAIN_")
    run_dir: str = "build/runs"
    rdzv_host: str = "127.0.0.1"
    rdzv_port: int = 29400
    nproc: int = 2
    max_restarts: int = 3
    strategy: Strategy = "ddp"


def load_train_config(path: Path | None, **changes: Any) -> TrainConfig:
    """Read a TrainConfig from YAML/TOML/JSON (optional), then apply `changes` (non-None)."""
    from aiinfra_shared.config import ConfigError, read_config_file
    from pydantic import ValidationError

    data: dict[str, Any] = {}
    if path is not None:
        data = read_config_file(Path(path))  # YAML is a superset of JSON
        data = data.get("train", data)
    data.update({k: v for k, v in changes.items() if v is not None})
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"{path or 'config'}: {where}: {first['msg']}") from exc

