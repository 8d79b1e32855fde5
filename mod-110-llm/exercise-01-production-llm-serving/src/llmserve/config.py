"""Settings for llmserve: defaults < config file < environment (prefix LLMSERVE_).

Every knob of the server lives here so that `llmserve serve --config serve.yaml`, the
environment (`LLMSERVE_MAX_NUM_SEQS=32`) and the tests all configure the same object.
"""

from __future__ import annotations

from typing import Literal

from aiinfra_shared.config import ExerciseSettings, settings_config
from pydantic import Field, model_validator

EngineKind = Literal["auto", "transformers", "vllm", "openai"]


class Settings(ExerciseSettings):
    """Server, engine, scheduler, admission-control and cost settings."""

    model_config = settings_config(env_prefix="LLMSERVE_")

    # Model and engine ------------------------------------------------------------------
    engine: EngineKind = "auto"
    model: str = Field(default="smollm2", description="'smollm2', a HF model dir, or a name")
    served_model_name: str | None = None
    gguf_file: str | None = None
    device: str = "auto"  # auto | cpu | cuda
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    max_model_len: int = Field(default=2048, ge=8)
    # Intra-op threads for torch on CPU (0 = torch's default, one per core). On a busy
    # machine 1-2 threads avoid spin-waiting that can make a tiny model 10x slower.
    cpu_threads: int = Field(default=0, ge=0)

    # Continuous-batching scheduler (transformers engine) --------------------------------
    max_num_seqs: int = Field(default=16, ge=1)
    max_num_batched_tokens: int = Field(default=2048, ge=1)
    kv_cache_capacity_tokens: int | None = Field(default=None, ge=1)
    enable_prefix_caching: bool = True
    prefix_block_size: int = Field(default=16, ge=1)
    prefix_cache_max_blocks: int = Field(default=512, ge=1)

    # vLLM engine ---------------------------------------------------------------------------
    gpu_memory_utilization: float = Field(default=0.9, gt=0.0, le=1.0)
    tensor_parallel_size: int = Field(default=1, ge=1)
    quantization: str | None = None

    # OpenAI upstream engine ------------------------------------------------------------------
    upstream_url: str | None = None
    upstream_api_key: str | None = None
    upstream_model: str | None = None

    # Admission control -----------------------------------------------------------------------
    max_queue_size: int = Field(default=64, ge=0)
    request_timeout_s: float = Field(default=120.0, gt=0)
    api_keys: list[str] = Field(default_factory=list)
    rate_limit_rpm: float | None = Field(default=None, gt=0)
    rate_limit_tpm: float | None = Field(default=None, gt=0)
    # Priority tiers (lower is served first) and which API key belongs to which tier; a key
    # without an entry (or no key at all) gets `default_tier`. The request body's `priority`
    # can only lower a request's priority, never raise it above its key's tier.
    priority_tiers: dict[str, int] = Field(
        default_factory=lambda: {"interactive": 0, "standard": 1, "batch": 2})
    api_key_tiers: dict[str, str] = Field(default_factory=dict)
    default_tier: str = "standard"
    max_body_bytes: int = Field(default=1_000_000, ge=1024)

    # Monitoring -------------------------------------------------------------------------------
    gpu_hourly_usd: float = Field(default=0.0, ge=0.0)

    # HTTP ------------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.engine == "openai" and not self.upstream_url:
            raise ValueError("engine 'openai' needs upstream_url")
        tiers = sorted(self.priority_tiers)
        if self.default_tier not in self.priority_tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not one of the "
                             f"priority_tiers {tiers}")
        unknown = sorted({t for t in self.api_key_tiers.values()
                          if t not in self.priority_tiers})
        if unknown:
            raise ValueError(f"api_key_tiers uses unknown tier(s) {unknown}; "
                             f"priority_tiers are {tiers}")
        return self

    @property
    def model_name(self) -> str:
        """The id clients put in `model` (defaults to the model argument)."""
        if self.served_model_name:
            return self.served_model_name
        if self.engine == "openai" and self.upstream_model:
            return self.upstream_model
        return "SmolLM2-135M-Instruct" if self.model == "smollm2" else self.model

    @property
    def kv_capacity(self) -> int:
        """KV-cache slots (tokens) the scheduler may hold at once."""
        return self.kv_cache_capacity_tokens or self.max_num_seqs * self.max_model_len
