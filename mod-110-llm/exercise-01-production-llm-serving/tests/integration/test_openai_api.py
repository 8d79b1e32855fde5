"""The OpenAI API through the official `openai` client against a real server on loopback."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.integration.conftest import RunningServer

pytestmark = pytest.mark.integration

MESSAGES = [{"role": "user", "content": "hello world tell me a story"}]


def client_for(server: RunningServer, api_key: str = "none") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=api_key, max_retries=0,
                         timeout=60)


@pytest.mark.points(6)
def test_chat_non_streaming_and_streaming_agree(make_server: Callable[..., RunningServer]
                                                ) -> None:
    server = make_server()
    client = client_for(server)
    full = client.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=12,
                                          temperature=0, extra_body={"ignore_eos": True})
    assert full.object == "chat.completion"
    assert full.choices[0].finish_reason == "length"
    assert full.usage is not None and full.usage.completion_tokens == 12
    assert full.usage.prompt_tokens > 5
    text = full.choices[0].message.content
    assert text

    stream = client.chat.completions.create(
        model="tiny", messages=MESSAGES, max_tokens=12, temperature=0, stream=True,
        stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "length" and set(finishes[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 12


@pytest.mark.points(4)
def test_completions_stream_ends_with_done(make_server: Callable[..., RunningServer]) -> None:
    server = make_server()
    client = client_for(server)
    full = client.completions.create(model="tiny", prompt="the cat and the dog", max_tokens=8,
                                     temperature=0, extra_body={"ignore_eos": True})
    assert full.usage is not None and full.usage.completion_tokens == 8
    chunks = list(client.completions.create(model="tiny", prompt="the cat and the dog",
                                            max_tokens=8, temperature=0, stream=True,
                                            extra_body={"ignore_eos": True}))
    assert "".join(c.choices[0].text for c in chunks) == full.choices[0].text
    # The raw SSE stream ends with the OpenAI sentinel.
    with httpx.stream("POST", f"{server.base_url}/v1/completions", timeout=30, json={
            "model": "tiny", "prompt": "hello", "max_tokens": 3, "stream": True}) as response:
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)


@pytest.mark.points(3)
def test_models_health_and_stop_sequences(make_server: Callable[..., RunningServer]) -> None:
    server = make_server()
    client = client_for(server)
    assert [m.id for m in client.models.list()] == ["tiny"]
    assert httpx.get(f"{server.base_url}/health").json()["status"] == "ok"
    base = client.completions.create(model="tiny", prompt="one two", max_tokens=10,
                                     temperature=0, extra_body={"ignore_eos": True})
    words = base.choices[0].text.split()
    assert len(words) >= 3
    stop = words[2]
    cut = client.completions.create(model="tiny", prompt="one two", max_tokens=10,
                                    temperature=0, stop=[stop],
                                    extra_body={"ignore_eos": True})
    assert cut.choices[0].finish_reason == "stop"
    assert stop not in cut.choices[0].text
    assert base.choices[0].text.startswith(cut.choices[0].text)


@pytest.mark.points(3)
@pytest.mark.hidden
def test_seeded_sampling_is_reproducible(make_server: Callable[..., RunningServer]) -> None:
    client = client_for(make_server())
    kwargs = {"model": "tiny", "prompt": "tell me", "max_tokens": 16, "temperature": 1.0,
              "top_p": 0.9, "extra_body": {"ignore_eos": True}}
    a = client.completions.create(seed=7, **kwargs).choices[0].text  # type: ignore[call-overload]
    b = client.completions.create(seed=7, **kwargs).choices[0].text  # type: ignore[call-overload]
    c = client.completions.create(seed=8, **kwargs).choices[0].text  # type: ignore[call-overload]
    assert a == b
    assert a != c


@pytest.mark.points(12)
def test_batched_outputs_equal_unbatched_greedy(make_server: Callable[..., RunningServer],
                                                tiny_model_dir: Path) -> None:
    """Concurrent requests share decode steps, and give exactly the unbatched greedy text."""
    prompts = ["hello world tell me a story", "the cat", "one two three four five six seven "
               "eight nine ten one two three", "red green blue", "what is the answer to the "
               "question", "server client request"]
    torch.set_num_threads(1)  # the reference runs in this process; see Settings.cpu_threads
    server = make_server(max_num_seqs=8)
    client = client_for(server)

    def ask(index_prompt: tuple[int, str]) -> str:
        index, prompt = index_prompt
        out = client.completions.create(model="tiny", prompt=prompt, max_tokens=30 + 4 * index,
                                        temperature=0, extra_body={"ignore_eos": True})
        return out.choices[0].text

    with ThreadPoolExecutor(len(prompts)) as pool:
        served = list(pool.map(ask, enumerate(prompts)))

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    for index, (prompt, text) in enumerate(zip(prompts, served, strict=True)):
        ids = tokenizer(prompt, return_tensors="pt").input_ids
        with torch.no_grad():
            ref = model.generate(ids, max_new_tokens=30 + 4 * index, do_sample=False,
                                 eos_token_id=None, pad_token_id=0)
        assert text == tokenizer.decode(ref[0, ids.shape[1]:], skip_special_tokens=True)
    steps = server.metric("llmserve_decode_batch_size_count")
    single = server.metric("llmserve_decode_batch_size_bucket", 'le="1.0"')
    assert steps > single, "no decode step ever ran more than one sequence"
    assert server.engine.max_batch_seen > 1
