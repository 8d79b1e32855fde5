"""The `vllm` engine: vLLM's AsyncLLM (the v1 AsyncLLMEngine) on CUDA GPUs.

vLLM is NOT a dependency of the package (vLLM 0.33 pins torch 2.14 and transformers <5.21,
which conflict with this repo's pinned torch 2.13 / transformers 5.23): the CUDA image
installs it (see Dockerfile.cuda). The mapping from our settings and sampling parameters to
vLLM's arguments is pure and unit-tested on CPU; serving through vLLM is covered by
`gpu`-marked tests.

Live numbers (queue depth, running sequences, KV-cache usage; the HPA scales on the first)
come from vLLM's own scheduler statistics: a stat logger registered with AsyncLLM keeps the
latest `SchedulerStats` of each engine core, and `stats_from_scheduler` maps them.
Chat prompts are templated and tokenized HERE and handed to vLLM as token ids: a template
that writes the BOS token, re-tokenized by vLLM with special tokens, would start with two.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator
from typing import Any

from llmserve.engines.base import (
    EngineError,
    EngineStats,
    GenerationRequest,
    SamplingParams,
    StreamEvent,
)


def vllm_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def engine_args(settings: Any, model_path: str, tokenizer: str | None = None
                ) -> dict[str, Any]:
    """AsyncEngineArgs keyword arguments from `Settings`."""
    # BEGIN SOLUTION: AsyncEngineArgs keywords from Settings (memory, TP, quantization)
    args: dict[str, Any] = {
        "model": model_path,
        "served_model_name": [settings.model_name],
        "gpu_memory_utilization": settings.gpu_memory_utilization,
        "max_model_len": settings.max_model_len,
        "tensor_parallel_size": settings.tensor_parallel_size,
        "dtype": settings.dtype,
        "max_num_seqs": settings.max_num_seqs,
        "max_num_batched_tokens": max(settings.max_num_batched_tokens, settings.max_model_len),
        "enable_prefix_caching": settings.enable_prefix_caching,
        "disable_log_stats": False,  # the scheduler stats feed our gauges and the HPA
    }
    if settings.quantization:
        args["quantization"] = settings.quantization
    if tokenizer:
        args["tokenizer"] = tokenizer
    return args
    # END SOLUTION


def sampling_kwargs(params: SamplingParams) -> dict[str, Any]:
    """vllm.SamplingParams keyword arguments for our sampling parameters."""
    # BEGIN SOLUTION: vllm.SamplingParams keywords (stop and seed only when set)
    kwargs: dict[str, Any] = {
        "max_tokens": params.max_tokens, "temperature": params.temperature,
        "top_p": params.top_p, "ignore_eos": params.ignore_eos,
    }
    if params.stop:
        kwargs["stop"] = list(params.stop)
    if params.seed is not None:
        kwargs["seed"] = params.seed
    return kwargs
    # END SOLUTION


def stats_from_scheduler(scheduler_stats: list[Any], max_num_seqs: int) -> EngineStats:
    """EngineStats from the latest vLLM `SchedulerStats` of each engine core.

    Waiting and running add up over data-parallel cores; KV usage is their mean. vLLM
    renamed `gpu_cache_usage` to `kv_cache_usage` (both are fractions 0..1); either is read.
    """
    # BEGIN SOLUTION: sum the queues, average the KV usage, accept both field names
    waiting = running = 0
    usage: list[float] = []
    for stats in scheduler_stats:
        waiting += int(getattr(stats, "num_waiting_reqs", 0))
        running += int(getattr(stats, "num_running_reqs", 0))
        kv = getattr(stats, "kv_cache_usage", None)
        if kv is None:
            kv = getattr(stats, "gpu_cache_usage", 0.0)
        usage.append(float(kv or 0.0))
    return EngineStats(waiting=waiting, running=running,
                       kv_cache_usage=min(1.0, sum(usage) / len(usage)) if usage else 0.0,
                       max_num_seqs=max_num_seqs)
    # END SOLUTION


class SchedulerStatsLogger:
    """A vLLM stat logger (the `StatLoggerBase` interface) that keeps the latest stats.

    vLLM calls `record` from its output loop after every engine step; `latest` maps the
    engine-core index to its last `SchedulerStats`.
    """

    def __init__(self, vllm_config: Any = None, engine_index: int = 0,
                 latest: dict[int, Any] | None = None) -> None:
        self.engine_index = engine_index
        self.latest: dict[int, Any] = latest if latest is not None else {}

    def record(self, scheduler_stats: Any, iteration_stats: Any = None,
               engine_idx: int = 0, *args: Any, **kwargs: Any) -> None:
        if scheduler_stats is not None:
            self.latest[engine_idx] = scheduler_stats

    def log_engine_initialized(self) -> None:
        pass

    def log(self) -> None:
        pass


def prompt_inputs(tokenizer: Any, request: GenerationRequest) -> dict[str, Any]:
    """What to give vLLM: token ids for chat (templated once), text for completions."""
    # BEGIN SOLUTION: chat -> {"prompt_token_ids"} with the template's own BOS only
    if request.messages is not None:
        ids = tokenizer.apply_chat_template(request.messages, tokenize=True,
                                            add_generation_prompt=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):  # transformers 5 returns a mapping
            ids = ids["input_ids"]
        return {"prompt_token_ids": [int(i) for i in ids]}
    return {"prompt": request.prompt or ""}
    # END SOLUTION


class VLLMEngine:
    """Adapter from our Engine interface to vLLM's asynchronous engine."""

    def __init__(self, settings: Any, model_path: str, tokenizer_path: str | None = None
                 ) -> None:
        self.settings = settings
        self.model_name = settings.model_name
        self.max_model_len = settings.max_model_len
        self.args = engine_args(settings, model_path, tokenizer_path)
        self.engine: Any = None
        self.tokenizer: Any = None
        self._running = 0
        self.scheduler_stats: dict[int, Any] = {}

    async def start(self) -> None:
        from vllm import AsyncEngineArgs

        try:
            from vllm.v1.engine.async_llm import AsyncLLM as engine_cls  # noqa: N813
        except ImportError:  # older releases
            from vllm import AsyncLLMEngine as engine_cls  # noqa: N813
        self.engine = engine_cls.from_engine_args(AsyncEngineArgs(**self.args),
                                                  stat_loggers=[self._stat_logger_factory()])
        tokenizer = self.engine.get_tokenizer()
        self.tokenizer = await tokenizer if inspect.isawaitable(tokenizer) else tokenizer

    async def stop(self) -> None:
        if self.engine is not None:
            self.engine.shutdown()
            self.engine = None

    def _stat_logger_factory(self) -> Any:
        """A factory vLLM calls per engine core: (vllm_config, engine_index) -> logger."""
        base: type = object
        try:
            from vllm.v1.metrics.loggers import StatLoggerBase

            base = StatLoggerBase
        except ImportError:
            pass
        logger_cls = type("LLMServeStatLogger", (SchedulerStatsLogger, base), {})
        latest = self.scheduler_stats

        def factory(vllm_config: Any, engine_index: int = 0) -> Any:
            return logger_cls(vllm_config, engine_index, latest)

        return factory

    def prompt(self, request: GenerationRequest) -> dict[str, Any]:
        return prompt_inputs(self.tokenizer, request)

    def count_prompt_tokens(self, request: GenerationRequest) -> int:
        prompt = self.prompt(request)
        if "prompt_token_ids" in prompt:
            return len(prompt["prompt_token_ids"])
        return len(self.tokenizer(prompt["prompt"])["input_ids"])  # as vLLM tokenizes it

    def stats(self) -> EngineStats:
        if self.scheduler_stats:
            return stats_from_scheduler(list(self.scheduler_stats.values()),
                                        self.settings.max_num_seqs)
        return EngineStats(waiting=0, running=self._running, kv_cache_usage=0.0,
                           max_num_seqs=self.settings.max_num_seqs)

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        from vllm import SamplingParams as VSamplingParams
        from vllm.sampling_params import RequestOutputKind

        if self.engine is None:
            raise EngineError("vLLM engine not started", status=503,
                              code="service_unavailable")
        params = VSamplingParams(**sampling_kwargs(request.params),
                                 output_kind=RequestOutputKind.DELTA)
        finished = False
        produced = 0
        self._running += 1
        try:
            async for output in self.engine.generate(self.prompt(request), params,
                                                     request.request_id):
                choice = output.outputs[0]
                produced += len(choice.token_ids)
                finished = bool(output.finished)
                yield StreamEvent(
                    text=choice.text, new_tokens=len(choice.token_ids),
                    finish_reason=(choice.finish_reason or "stop") if finished else None,
                    prompt_tokens=len(output.prompt_token_ids or []),
                    completion_tokens=produced)
        finally:
            self._running -= 1
            if not finished:
                await self.engine.abort(request.request_id)
