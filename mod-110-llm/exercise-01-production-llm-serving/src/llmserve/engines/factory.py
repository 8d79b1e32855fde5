"""Pick and build the engine named in the settings (`auto`: vLLM on CUDA if installed)."""

from __future__ import annotations

from collections.abc import Callable

from llmserve.adapters import hf_model
from llmserve.config import Settings
from llmserve.engines.base import Engine


def choose_kind(settings: Settings) -> str:
    """`auto` -> vllm when CUDA and vLLM are both present, else transformers."""
    if settings.engine != "auto":
        return settings.engine
    import torch

    from llmserve.adapters.vllm_engine import vllm_available

    if torch.cuda.is_available() and vllm_available() and settings.device != "cpu":
        return "vllm"
    return "transformers"


def build_engine(settings: Settings,
                 step_observer: Callable[[int], None] | None = None) -> Engine:
    kind = choose_kind(settings)
    if kind == "openai":
        from llmserve.adapters.openai_upstream import OpenAIUpstreamEngine

        assert settings.upstream_url is not None
        return OpenAIUpstreamEngine(settings.upstream_url,
                                    settings.upstream_model or settings.model,
                                    settings.model_name, settings.max_model_len,
                                    settings.upstream_api_key, settings.max_num_seqs)
    if kind == "vllm":
        from llmserve.adapters.vllm_engine import VLLMEngine

        source = hf_model.resolve(settings.model, settings.gguf_file)
        model_path = str(source.path / source.gguf_file) if source.gguf_file else str(source.path)
        return VLLMEngine(settings, model_path,
                          tokenizer_path=str(source.path) if source.gguf_file else None)
    from llmserve.engines.transformers_engine import TransformersEngine

    return TransformersEngine.from_settings(settings, step_observer)
