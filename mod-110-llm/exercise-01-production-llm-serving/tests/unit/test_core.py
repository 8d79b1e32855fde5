"""Admission control, sampling, protocol validation, config and the vLLM argument mapping."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

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


@pytest.mark.points(2)
def test_reservations_settle_and_the_gate_is_atomic() -> None:
    from llmserve.admission import AdmissionGate

    clock = Clock()
    limiter = RateLimiter(rpm=None, tpm=100, clock=clock)
    assert limiter.check("a", 90) is None
    assert limiter.check("a", 90) is not None  # 10 left
    limiter.settle("a", reserved=90, used=12)  # 78 refunded
    assert limiter.check("a", 85) is None
    limiter.settle("a", reserved=85, used=500)  # over-use is never "refunded"
    assert limiter.check("a", 10) is not None
    gate = AdmissionGate(max_num_seqs=2, max_queue_size=1)
    assert [gate.try_enter() is None for _ in range(4)] == [True, True, True, False]
    gate.leave()
    assert gate.try_enter() is None and gate.peak == 3


@pytest.mark.points(2)
def test_priority_tiers_from_settings() -> None:
    from llmserve.admission import priority_for_key

    settings = Settings(api_key_tiers={"gold": "interactive", "bulk": "batch"})
    tiers, keys = settings.priority_tiers, settings.api_key_tiers
    assert priority_for_key("gold", tiers, keys, settings.default_tier, 0) == 0
    assert priority_for_key("bulk", tiers, keys, settings.default_tier, -100) == 2
    assert priority_for_key("bulk", tiers, keys, settings.default_tier, 7) == 7  # may yield
    assert priority_for_key("anonymous", tiers, keys, settings.default_tier) == 1
    with pytest.raises(ValidationError, match="unknown tier"):
        Settings(api_key_tiers={"k": "platinum"})


@pytest.mark.points(3)
def test_vllm_stats_come_from_its_scheduler_stats() -> None:
    from types import SimpleNamespace

    from llmserve.adapters.vllm_engine import SchedulerStatsLogger, VLLMEngine

    engine = VLLMEngine(Settings(model="/models/m", max_num_seqs=8), "/models/m")
    assert engine.stats().waiting == 0  # nothing recorded yet
    factory = engine._stat_logger_factory()
    # Stubs shaped like vLLM's SchedulerStats: the newer field name, then the older one.
    core0, core1 = factory(None, 0), factory(None, 1)
    assert isinstance(core0, SchedulerStatsLogger)
    core0.record(SimpleNamespace(num_running_reqs=8, num_waiting_reqs=13, kv_cache_usage=0.75),
                 None, engine_idx=0)
    core1.record(SimpleNamespace(num_running_reqs=2, num_waiting_reqs=0, gpu_cache_usage=0.25),
                 None, engine_idx=1)
    core1.record(None, SimpleNamespace(), engine_idx=1)  # iteration-only update: kept
    stats = engine.stats()
    assert (stats.waiting, stats.running, stats.max_num_seqs) == (13, 10, 8)
    assert stats.kv_cache_usage == pytest.approx(0.5)
    assert engine.args["disable_log_stats"] is False


class _BosTokenizer:
    """Behaves like a HF tokenizer whose chat template writes the BOS token itself."""

    bos_token_id = 1
    vocab: ClassVar[dict[str, int]] = {"<s>": 1, "user:": 2, "assistant:": 3, "hi": 4}

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        ids = [self.vocab[word] for word in text.replace("<s>", "<s> ").split()]
        return {"input_ids": ([self.bos_token_id] if add_special_tokens else []) + ids}

    def apply_chat_template(self, messages: list[dict[str, str]], tokenize: bool = True,
                            add_generation_prompt: bool = False) -> object:
        text = "<s>" + " ".join(f"{m['role']}: {m['content']}" for m in messages)
        text += " assistant:" if add_generation_prompt else ""
        return self(text, add_special_tokens=False)["input_ids"] if tokenize else text


@pytest.mark.points(2)
@pytest.mark.hidden
def test_vllm_chat_prompt_has_one_bos_token() -> None:
    from llmserve.adapters.vllm_engine import VLLMEngine
    from llmserve.engines.base import GenerationRequest

    engine = VLLMEngine(Settings(model="/models/m"), "/models/m")
    engine.tokenizer = _BosTokenizer()
    chat = GenerationRequest("c", SamplingParams(), messages=[{"role": "user", "content": "hi"}])
    prompt = engine.prompt(chat)
    # Token ids, so vLLM does not tokenize the templated text again (adding a second BOS).
    assert prompt == {"prompt_token_ids": [1, 2, 4, 3]}
    assert engine.count_prompt_tokens(chat) == 4
    plain = GenerationRequest("p", SamplingParams(), prompt="hi")
    assert engine.prompt(plain) == {"prompt": "hi"}  # vLLM adds the one BOS itself
    assert engine.count_prompt_tokens(plain) == 2
