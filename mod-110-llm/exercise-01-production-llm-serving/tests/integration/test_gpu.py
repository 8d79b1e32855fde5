"""CUDA-only: vLLM's AsyncLLM behind our API, and the transformers engine on a GPU.

Skipped automatically without CUDA (shared `gpu` marker). The vLLM test also needs vLLM
installed (the CUDA image, Dockerfile.cuda); in CI=true on a GPU box a missing vLLM fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import openai
import pytest

from llmserve.adapters.vllm_engine import vllm_available
from tests.integration.conftest import RunningServer

pytestmark = [pytest.mark.integration, pytest.mark.gpu]


def _require_vllm() -> None:
    if not vllm_available():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true on a GPU machine but vLLM is not installed")
        pytest.skip("vLLM not installed (pip install vllm, or use Dockerfile.cuda)")


@pytest.mark.points(2)
def test_vllm_engine_serves_openai_api(make_server: Callable[..., RunningServer],
                                       tiny_model_dir: Path) -> None:
    _require_vllm()
    server = make_server(engine="vllm", device="cuda", gpu_memory_utilization=0.3,
                         max_model_len=512, dtype="float16", max_num_seqs=8)
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="x", max_retries=0)
    out = client.completions.create(model="tiny", prompt="hello world", max_tokens=8,
                                    temperature=0, extra_body={"ignore_eos": True})
    assert out.usage is not None and out.usage.completion_tokens == 8
    chunks = list(client.completions.create(model="tiny", prompt="hello world", max_tokens=8,
                                            temperature=0, stream=True,
                                            extra_body={"ignore_eos": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == out.choices[0].text


@pytest.mark.points(2)
def test_transformers_engine_on_cuda(make_server: Callable[..., RunningServer]) -> None:
    server = make_server(device="cuda", dtype="float32", max_num_seqs=4)
    assert str(server.engine.device).startswith("cuda")
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="x", max_retries=0)
    out = client.chat.completions.create(model="tiny", max_tokens=6,
                                         messages=[{"role": "user", "content": "hi"}],
                                         extra_body={"ignore_eos": True})
    assert out.usage is not None and out.usage.completion_tokens == 6
