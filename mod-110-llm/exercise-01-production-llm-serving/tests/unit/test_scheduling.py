"""Scheduler policy, KV batching, prefix cache and the engine's continuous batching."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import torch

from llmserve.adapters import hf_model
from llmserve.engines.base import GenerationRequest, SamplingParams
from llmserve.engines.kv import BatchKV, cache_layers
from llmserve.engines.prefix_cache import PrefixCache
from llmserve.engines.scheduler import Scheduler, SchedulerLimits
from llmserve.engines.transformers_engine import EngineConfig, TransformersEngine


@pytest.mark.points(5)
def test_scheduler_respects_slots_priority_and_budgets() -> None:
    sched: Scheduler[str] = Scheduler(SchedulerLimits(max_num_seqs=2, max_num_batched_tokens=100,
                                                      kv_capacity_tokens=1000))
    sched.add("low", 10, 10, priority=5)
    sched.add("high", 10, 10, priority=0)
    sched.add("mid", 10, 10, priority=1)
    assert sched.admit() == ["high", "mid"]
    assert sched.admit() == []  # no free slot
    sched.finish("high")
    assert sched.admit() == ["low"]


@pytest.mark.points(5)
def test_scheduler_token_budget_and_kv_capacity() -> None:
    sched: Scheduler[str] = Scheduler(SchedulerLimits(max_num_seqs=8, max_num_batched_tokens=50,
                                                      kv_capacity_tokens=200))
    for name in ("a", "b", "c"):
        sched.add(name, 30, 10)
    assert sched.admit() == ["a"]  # b would exceed the 50-token prefill budget of this step
    assert sched.admit() == ["b"]
    sched.add("huge", 30, 150)
    assert sched.admit() == ["c"]
    assert sched.admit() == []  # 120 reserved + 180 > 200: waits for capacity
    sched.finish("a")
    sched.finish("b")
    assert sched.admit() == []  # 40 (c) + 180 still > 200
    sched.finish("c")
    assert sched.admit() == ["huge"]


@pytest.mark.points(1)
@pytest.mark.hidden
def test_scheduler_remove_waiting() -> None:
    sched: Scheduler[str] = Scheduler(SchedulerLimits(1, 10, 100))
    sched.add("x", 1, 1)
    assert sched.remove_waiting("x") and sched.num_waiting == 0


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path) -> tuple[object, object]:
    torch.set_num_threads(1)
    return hf_model.load(hf_model.resolve(str(tiny_model_dir)), torch.device("cpu"),
                         torch.float32)


@pytest.mark.points(6)
def test_batch_kv_add_keep_pads_left(tiny: tuple[object, object]) -> None:
    model, _ = tiny
    batch = BatchKV(torch.device("cpu"))
    for length in (3, 5):
        out = model(input_ids=torch.arange(5, 5 + length).unsqueeze(0), use_cache=True)  # type: ignore[operator]
        batch.add(cache_layers(out.past_key_values), length)
    assert batch.mask.tolist() == [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]
    batch.keep([0])
    assert batch.mask.tolist() == [[1, 1, 1]]  # all-padding columns are trimmed
    assert cache_layers(batch.cache)[0][0].shape[2] == 3  # type: ignore[arg-type]


@pytest.mark.points(5)
def test_prefix_cache_reuses_whole_blocks_only() -> None:
    cache = PrefixCache(block_size=4, max_blocks=2)
    layers = [(torch.randn(1, 2, 10, 8), torch.randn(1, 2, 10, 8))]
    tokens = list(range(10))
    cache.insert(tokens, layers)
    assert len(cache) == 2  # 2 full blocks; the last 2 tokens are not cached
    hit, found = cache.lookup([*tokens[:8], 99, 98])
    assert hit == 8 and found is not None
    assert torch.equal(found[0][0], layers[0][0][:, :, :8])
    assert cache.lookup([1, *tokens[1:]])[0] == 0  # differs in the first block: no reuse
    assert cache.lookup(tokens[:8])[0] == 4  # keep at least one token to compute
    cache.insert([50, 51, 52, 53], [(torch.zeros(1, 2, 4, 8), torch.zeros(1, 2, 4, 8))])
    assert len(cache) == 2  # LRU eviction at max_blocks


def _run(engine: TransformersEngine, coro_factory):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        await engine.start()
        try:
            return await coro_factory()
        finally:
            await engine.stop()

    return asyncio.run(main())


@pytest.mark.points(8)
def test_late_request_joins_the_running_batch(tiny: tuple[object, object]) -> None:
    model, tokenizer = tiny
    engine = TransformersEngine(model, tokenizer, EngineConfig("tiny", max_num_seqs=4))
    greedy = SamplingParams(max_tokens=150, temperature=0.0, ignore_eos=True)

    async def scenario() -> list[str]:
        order: list[str] = []
        long_req = GenerationRequest("long", greedy, prompt="hello world")

        async def consume(name: str, request: GenerationRequest) -> None:
            async for event in engine.generate(request):
                if event.finish_reason:
                    order.append(name)

        first = asyncio.create_task(consume("long", long_req))
        while engine.decode_steps < 10:
            await asyncio.sleep(0.005)
        short = GenerationRequest("short", SamplingParams(max_tokens=5, temperature=0.0,
                                                          ignore_eos=True), prompt="red")
        await consume("short", short)
        await first
        return order

    order = _run(engine, scenario)
    assert order == ["short", "long"]  # joined mid-flight and finished first
    assert engine.max_batch_seen == 2


@pytest.mark.points(4)
@pytest.mark.hidden
def test_prefix_caching_does_not_change_outputs(tiny: tuple[object, object]) -> None:
    model, tokenizer = tiny
    prompt = "the cat and the dog " * 6
    params = SamplingParams(max_tokens=12, temperature=0.0, ignore_eos=True)

    def generate(enable: bool) -> tuple[list[str], int]:
        engine = TransformersEngine(model, tokenizer, EngineConfig(
            "tiny", enable_prefix_caching=enable, prefix_block_size=4))

        async def twice() -> list[str]:
            texts = []
            for suffix in ("red", "blue"):
                parts = [e.text async for e in engine.generate(
                    GenerationRequest(suffix, params, prompt=prompt + suffix))]
                texts.append("".join(parts))
            return texts

        texts = _run(engine, twice)
        hits = engine.prefix_cache.hit_tokens if engine.prefix_cache else 0
        return texts, hits

    cached, hits = generate(True)
    plain, _ = generate(False)
    assert cached == plain
    assert hits >= 24


@pytest.mark.points(4)
@pytest.mark.hidden
def test_timeout_and_cancel_free_slots(tiny: tuple[object, object]) -> None:
    model, tokenizer = tiny
    engine = TransformersEngine(model, tokenizer, EngineConfig("tiny", max_num_seqs=1))

    async def scenario() -> tuple[str | None, int]:
        request = GenerationRequest("t", SamplingParams(max_tokens=3000, temperature=0.0,
                                                        ignore_eos=True),
                                    prompt="hi", timeout_s=0.3)
        last = None
        async for event in engine.generate(request):
            last = event
        assert last is not None and last.error is not None
        # A consumer that stops reading (a disconnect) releases its slot too.
        stream = engine.generate(GenerationRequest("c", request.params, prompt="hi"))
        await anext(stream)
        await stream.aclose()
        deadline = time.monotonic() + 10
        while engine.stats().running and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return last.error.code, engine.stats().running

    code, running = _run(engine, scenario)
    assert code == "timeout"
    assert running == 0


# ---------------------------------------------------------------- issue #35, engine hot spots


@pytest.mark.points(3)
def test_batch_kv_appends_a_row_without_rebuilding(tiny: tuple[object, object]) -> None:
    model, _ = tiny
    batch = BatchKV(torch.device("cpu"))
    caches = []
    for length in (5, 3):
        out = model(input_ids=torch.arange(5, 5 + length).unsqueeze(0), use_cache=True)  # type: ignore[operator]
        caches.append(cache_layers(out.past_key_values))
        if length == 5:
            batch.add(caches[0], length)
            running = batch.cache
        else:
            batch.add(caches[1], length)
    # The running batch's cache object is kept (its layers grow a row), not rebuilt.
    assert batch.cache is running
    keys = cache_layers(batch.cache)[0][0]  # type: ignore[arg-type]
    assert keys.shape[0] == 2
    assert torch.equal(keys[0], caches[0][0][0][0])  # old row untouched, no padding added
    assert torch.equal(keys[1, :, 2:], caches[1][0][0][0])  # new row left-padded by 2
    assert batch.mask.tolist() == [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]]


def _greedy_reference(model: object, tokenizer: object, prompt: str, tokens: int) -> list[int]:
    """Unbatched greedy decoding with the plain HF cache, EOS not special (as ignore_eos)."""
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]  # type: ignore[operator]
    out = model(input_ids=ids, use_cache=True)  # type: ignore[operator]
    produced: list[int] = []
    for _ in range(tokens):
        token = int(torch.argmax(out.logits[0, -1]))
        produced.append(token)
        out = model(input_ids=torch.tensor([[token]]),  # type: ignore[operator]
                    past_key_values=out.past_key_values, use_cache=True)
    return produced


@pytest.mark.points(6)
def test_chunked_prefill_interleaves_decode_and_keeps_outputs(
        tiny: tuple[object, object]) -> None:
    model, tokenizer = tiny
    # A 32-token budget: a 600-token prompt takes many steps, and the running sequence
    # decodes in each of them instead of waiting for the whole prefill.
    engine = TransformersEngine(model, tokenizer, EngineConfig(
        "tiny", max_num_seqs=4, max_num_batched_tokens=32, enable_prefix_caching=False))
    greedy = SamplingParams(max_tokens=400, temperature=0.0, ignore_eos=True)
    long_prompt = "the cat and the dog " * 120
    short_tokens: list[int] = []

    async def scenario() -> tuple[int, int, list[int], str]:
        running = GenerationRequest("running", greedy, prompt="hello world")
        stream = engine.generate(running)
        for _ in range(3):
            await anext(stream)
        first_seen = -1
        produced = 0
        long_req = GenerationRequest("long", SamplingParams(max_tokens=6, temperature=0.0,
                                                            ignore_eos=True),
                                     prompt=long_prompt)
        steps_before = engine.decode_steps
        text = ""
        async for event in engine.generate(long_req):
            if first_seen < 0:
                first_seen = engine.decode_steps - steps_before
            text += event.text
            produced = event.completion_tokens
        await stream.aclose()
        return first_seen, produced, short_tokens, text

    decode_steps_during_prefill, produced, _, text = _run(engine, scenario)
    prompt_tokens = len(tokenizer(long_prompt)["input_ids"])  # type: ignore[operator]
    assert prompt_tokens >= 600
    # The running row decoded at least once per prefill chunk of the long prompt.
    assert decode_steps_during_prefill >= prompt_tokens // 32 - 2
    assert engine.prefill_chunks >= prompt_tokens // 32
    assert produced == 6
    reference = _greedy_reference(model, tokenizer, long_prompt, 6)
    assert text == tokenizer.decode(reference, skip_special_tokens=True)  # type: ignore[attr-defined]


@pytest.mark.points(3)
def test_detokenizing_is_incremental(tiny: tuple[object, object]) -> None:
    model, tokenizer = tiny
    lengths: list[int] = []

    class Counting:
        """The real tokenizer, recording how many ids each decode call gets."""

        def __getattr__(self, name: str) -> object:
            return getattr(tokenizer, name)

        def __call__(self, *args: object, **kwargs: object) -> object:
            return tokenizer(*args, **kwargs)  # type: ignore[operator]

        def decode(self, ids: list[int], **kwargs: object) -> str:
            lengths.append(len(ids))
            return str(tokenizer.decode(ids, **kwargs))  # type: ignore[attr-defined]

    engine = TransformersEngine(model, Counting(), EngineConfig("tiny"))
    params = SamplingParams(max_tokens=200, temperature=0.0, ignore_eos=True)

    async def one() -> str:
        parts = [e.text async for e in engine.generate(
            GenerationRequest("d", params, prompt="hello world"))]
        return "".join(parts)

    text = _run(engine, one)
    reference = _greedy_reference(model, tokenizer, "hello world", 200)
    assert text == tokenizer.decode(reference, skip_special_tokens=True)  # type: ignore[attr-defined]
    assert len(lengths) >= 200
    assert max(lengths) <= 4  # a short window, not the whole output every token


# ---------------------------------------------------------------- batched prefill


class _CountingModel:
    """The real model, recording the `input_ids` shape of every forward pass."""

    def __init__(self, model: object) -> None:
        self.model = model
        self.shapes: list[tuple[int, int]] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.model, name)

    def __call__(self, **kwargs: torch.Tensor) -> object:
        self.shapes.append((int(kwargs["input_ids"].shape[0]),
                            int(kwargs["input_ids"].shape[1])))
        return self.model(**kwargs)  # type: ignore[operator]


def _queue_then_start(engine: TransformersEngine, prompts: list[str],
                      tokens: int) -> list[str]:
    """Queue every request BEFORE the engine thread starts, so one step sees them all."""
    params = SamplingParams(max_tokens=tokens, temperature=0.0, ignore_eos=True)

    async def main() -> list[str]:
        async def one(prompt: str) -> str:
            return "".join([e.text async for e in engine.generate(
                GenerationRequest(prompt, params, prompt=prompt))])

        tasks = [asyncio.create_task(one(prompt)) for prompt in prompts]
        while len(engine._inbox) < len(prompts):  # each task has queued its request
            await asyncio.sleep(0)
        await engine.start()
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            await engine.stop()

    return asyncio.run(main())


@pytest.mark.points(6)
def test_batched_prefill_runs_waiting_newcomers_in_one_pass(
        tiny: tuple[object, object]) -> None:
    model, tokenizer = tiny
    counting = _CountingModel(model)
    engine = TransformersEngine(counting, tokenizer, EngineConfig(
        "tiny", max_num_seqs=8, enable_prefix_caching=False))
    prompts = ["hello world tell me a story", "the cat", "one two three four five six seven "
               "eight nine ten one two three", "red green blue", "what is the answer",
               "server client request"]
    texts = _queue_then_start(engine, prompts, 12)
    longest = max(len(tokenizer(p)["input_ids"]) for p in prompts)  # type: ignore[operator]
    # ONE prefill forward pass for all six newcomers (left-padded to the longest prompt),
    # instead of one pass each; then every decode step runs all six rows.
    assert counting.shapes[0] == (len(prompts), longest)
    assert engine.prefill_passes == 1
    assert engine.prefill_chunks == len(prompts)
    assert all(shape == (len(prompts), 1) for shape in counting.shapes[1:])
    for prompt, text in zip(prompts, texts, strict=True):
        reference = _greedy_reference(model, tokenizer, prompt, 12)
        assert text == tokenizer.decode(reference, skip_special_tokens=True)  # type: ignore[attr-defined]


@pytest.mark.points(4)
def test_batched_prefill_composes_with_prefix_cache_and_chunks(
        tiny: tuple[object, object]) -> None:
    model, tokenizer = tiny
    counting = _CountingModel(model)
    engine = TransformersEngine(counting, tokenizer, EngineConfig(
        "tiny", max_num_seqs=8, max_num_batched_tokens=32, prefix_block_size=4))
    shared = "the cat and the dog " * 5
    long_prompt = "one two three four five six seven eight nine ten " * 7
    _queue_then_start(engine, [shared + "sun"], 4)  # caches the shared blocks
    counting.shapes.clear()
    prompts = [long_prompt, shared + "red", shared + "blue sky", shared + "a big city"]
    texts = _queue_then_start(engine, prompts, 10)
    for prompt, text in zip(prompts, texts, strict=True):
        reference = _greedy_reference(model, tokenizer, prompt, 10)
        assert text == tokenizer.decode(reference, skip_special_tokens=True)  # type: ignore[attr-defined]
    assert engine.prefix_cache is not None and engine.prefix_cache.hit_tokens >= 3 * 24
    # The long prompt is chunked within the 32-token budget, and its last chunk shares one
    # pass with the newcomers, which compute only their uncached suffixes (< 8 tokens).
    assert max(width for _, width in counting.shapes) <= 32
    assert any(rows >= 3 and 1 < width < 8 for rows, width in counting.shapes), counting.shapes
    assert engine.prefill_passes < engine.prefill_chunks
