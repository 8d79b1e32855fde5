"""Admission control, sampling, protocol validation, config and the vLLM argument mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from aiinfra_shared.config import ConfigError
from pydantic import ValidationError

from llmserve.adapters.vllm_engine import engine_args, sampling_kwargs
from llmserve.admission import RateLimiter, TokenBucket, check_api_key, check_queue
from llmserve.config import Settings
from llmserve.engines.base import SamplingParams
from llmserve.engines.sampling import make_generator, sample
from llmserve.protocol import ChatCompletionRequest, CompletionRequest


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.points(3)
def test_token_bucket_refills_over_time() -> None:
    clock = Clock()
    bucket = TokenBucket(60, clock)  # 1 per second
    bucket.take(60)
    assert bucket.wait_time(1) == pytest.approx(1.0)
    clock.now = 30
    assert bucket.wait_time(30) == 0.0
    assert bucket.wait_time(61) == float("inf")


@pytest.mark.points(4)
def test_rate_limiter_is_per_key_and_checks_both_buckets() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=2, tpm=100, clock=clock)
    assert limiter.check("a", 10) is None
    assert limiter.check("a", 10) is None
    rejected = limiter.check("a", 10)
    assert rejected is not None and rejected.status == 429 and rejected.retry_after_s == 30
    assert limiter.check("b", 90) is None
    tokens = limiter.check("b", 50)
    assert tokens is not None and "tokens" in tokens.message
    assert limiter.check("c", 500) is not None  # can never fit
    clock.now = 60
    assert limiter.check("a", 10) is None


@pytest.mark.points(2)
def test_api_keys_and_queue_bound() -> None:
    assert check_api_key(None, [])[1] is None
    assert check_api_key("Bearer k1", ["k1"]) == ("k1", None)
    rejection = check_api_key("Bearer nope", ["k1"])[1]
    assert rejection is not None and rejection.status == 401
    assert check_queue(waiting=0, running=3, max_num_seqs=4, max_queue_size=0) is None
    full = check_queue(waiting=8, running=4, max_num_seqs=4, max_queue_size=8)
    assert full is not None and full.retry_after_s == 3


@pytest.mark.points(4)
def test_sampling_greedy_seeded_and_top_p() -> None:
    logits = torch.tensor([0.0, 5.0, 4.9, -3.0])
    assert sample(logits, SamplingParams(temperature=0.0), None) == 1
    params = SamplingParams(temperature=1.0, seed=3)
    draws_a = [sample(logits, params, g) for g in [make_generator(params)] for _ in range(20)]
    draws_b = [sample(logits, params, g) for g in [make_generator(params)] for _ in range(20)]
    assert draws_a == draws_b
    narrow = SamplingParams(temperature=1.0, top_p=0.3, seed=1)
    gen = make_generator(narrow)
    assert {sample(logits, narrow, gen) for _ in range(50)} == {1}


@pytest.mark.points(2)
def test_protocol_validation() -> None:
    with pytest.raises(ValidationError):
        CompletionRequest(model="m", prompt="x", temperature=3)
    with pytest.raises(ValidationError):
        CompletionRequest(model="m", prompt=["a", "b"])
    with pytest.raises(ValidationError):
        ChatCompletionRequest(model="m", messages=[{"role": "user", "content": "x"}],
                              stop=["a", "b", "c", "d", "e"])
    body = ChatCompletionRequest(model="m", stop="END", seed=4, messages=[
        {"role": "developer", "content": [{"type": "text", "text": "be brief"}]}])
    assert body.messages[0].as_template_dict() == {"role": "system", "content": "be brief"}
    params = body.sampling(10)
    assert params.stop == ("END",) and params.seed == 4 and params.temperature == 1.0


@pytest.mark.points(1)
def test_settings_file_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "serve.yaml"
    path.write_text("max_num_seqs: 32\nport: 9100\napi_keys: [a]\n")
    monkeypatch.setenv("LLMSERVE_PORT", "9200")
    settings = Settings.load(path)
    assert (settings.max_num_seqs, settings.port, settings.api_keys) == (32, 9200, ["a"])
    assert settings.kv_capacity == 32 * 2048
    path.write_text("max_num_seqs: 0\n")
    with pytest.raises(ConfigError, match="max_num_seqs"):
        Settings.load(path)
    with pytest.raises(ConfigError, match="upstream_url"):
        Settings.load(None, engine="openai")


@pytest.mark.points(2)
def test_vllm_argument_mapping() -> None:
    settings = Settings(model="/models/m", max_model_len=4096, gpu_memory_utilization=0.85,
                        tensor_parallel_size=2, dtype="bfloat16", quantization="awq",
                        max_num_seqs=128)
    args = engine_args(settings, "/models/m")
    assert args["gpu_memory_utilization"] == 0.85
    assert args["tensor_parallel_size"] == 2
    assert args["quantization"] == "awq" and args["dtype"] == "bfloat16"
    assert args["max_num_batched_tokens"] >= args["max_model_len"] == 4096
    assert args["served_model_name"] == ["/models/m"]
    kwargs = sampling_kwargs(SamplingParams(max_tokens=7, temperature=0.5, top_p=0.9,
                                            stop=("x",), seed=3))
    assert kwargs == {"max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "ignore_eos": False,
                      "stop": ["x"], "seed": 3}
