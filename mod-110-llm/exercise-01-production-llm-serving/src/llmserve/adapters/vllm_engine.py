"""The `vllm` engine: vLLM's AsyncLLM (the v1 AsyncLLMEngine) on CUDA GPUs.

vLLM is NOT a dependency of the package (vLLM 0.33 pins torch 2.14 and transformers <5.21,
which conflict with this repo's pinned torch 2.13 / transformers 5.23): the CUDA image
installs it (see Dockerfile.cuda). The mapping from our settings and sampling parameters to
vLLM's arguments is pure and unit-tested on CPU; serving through vLLM is covered by
`gpu`-marked tests.
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

    async def start(self) -> None:
        from vllm import AsyncEngineArgs

        try:
            from vllm.v1.engine.async_llm import AsyncLLM as engine_cls  # noqa: N813
        except ImportError:  # older releases
            from vllm import AsyncLLMEngine as engine_cls  # noqa: N813
        self.engine = engine_cls.from_engine_args(AsyncEngineArgs(**self.args))
        tokenizer = self.engine.get_tokenizer()
        self.tokenizer = await tokenizer if inspect.isawaitable(tokenizer) else tokenizer

    async def stop(self) -> None:
        if self.engine is not None:
            self.engine.shutdown()
            self.engine = None

    def prompt_text(self, request: GenerationRequest) -> str:
        if request.messages is not None:
            return str(self.tokenizer.apply_chat_template(
                request.messages, tokenize=False, add_generation_prompt=True))
        return request.prompt or ""

    def count_prompt_tokens(self, request: GenerationRequest) -> int:
        return len(self.tokenizer(self.prompt_text(request), add_special_tokens=False)
                   ["input_ids"])

    def stats(self) -> EngineStats:
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
            async for output in self.engine.generate(self.prompt_text(request), params,
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
