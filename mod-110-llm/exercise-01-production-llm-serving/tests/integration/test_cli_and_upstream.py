"""The console script as a real process, the upstream proxy engine, and SmolLM2 (slow)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from aiinfra_shared.procs.ports import free_port

from tests.integration.conftest import RunningServer

pytestmark = pytest.mark.integration
EXE = str(Path(sys.executable).parent / "llmserve")


@pytest.mark.points(5)
def test_serve_console_script_and_bench(service_process: Callable[..., Any],
                                        tiny_model_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "LLMSERVE_CPU_THREADS": "1", "LLMSERVE_SERVED_MODEL_NAME": "tiny"}
    server = service_process(
        "llmserve", [EXE, "serve", "--model", str(tiny_model_dir), "--port", str(port),
                     "--engine", "transformers"],
        env=env, ready_http=f"http://127.0.0.1:{port}/health", timeout=90)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0)
    out = client.chat.completions.create(model="tiny", messages=[{"role": "user",
                                                                  "content": "hi"}],
                                         max_tokens=4)
    assert out.usage is not None and out.usage.completion_tokens >= 1
    assert "curl -s http://127.0.0.1:" in server.log_tail(20)

    report = tmp_path / "bench.json"
    plot = tmp_path / "bench.png"
    import subprocess

    result = subprocess.run(
        [EXE, "bench", "--base-url", f"http://127.0.0.1:{port}", "--num-prompts", "6",
         "--concurrency", "3", "--max-tokens", "5", "--slo-ttft-ms", "60000",
         "--out", str(report), "--plot", str(plot), "--json"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["completed"] == 6 and data["failed"] == 0
    assert data["total_output_tokens"] == 30
    assert data["goodput"] == pytest.approx(data["request_throughput"])
    assert data["ttft_ms"]["p50"] > 0
    assert plot.stat().st_size > 1000
    listed = subprocess.run([EXE, "models", "--base-url", f"http://127.0.0.1:{port}", "--json"],
                            capture_output=True, text=True, check=False)
    assert json.loads(listed.stdout)[0]["id"] == "tiny"


@pytest.mark.points(3)
def test_openai_upstream_engine_proxies(make_server: Callable[..., RunningServer]) -> None:
    upstream = make_server()
    proxy = make_server(engine="openai", upstream_url=f"{upstream.base_url}/v1",
                        upstream_model="tiny", served_model_name="proxied",
                        rate_limit_rpm=2)
    direct = openai.OpenAI(base_url=f"{upstream.base_url}/v1", api_key="x", max_retries=0)
    via = openai.OpenAI(base_url=f"{proxy.base_url}/v1", api_key="x", max_retries=0)
    kwargs: dict[str, Any] = {"messages": [{"role": "user", "content": "the cat"}],
                              "max_tokens": 9, "temperature": 0,
                              "extra_body": {"ignore_eos": True}}
    expected = direct.chat.completions.create(model="tiny", **kwargs)
    got = via.chat.completions.create(model="proxied", **kwargs)
    assert got.choices[0].message.content == expected.choices[0].message.content
    assert got.usage == expected.usage
    chunks = list(via.completions.create(model="proxied", prompt="red", max_tokens=4,
                                         stream=True, extra_body={"ignore_eos": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices)
    # Upstream errors keep their OpenAI shape; our own admission control applies in front.
    bad = httpx.post(f"{proxy.base_url}/v1/completions",
                     json={"model": "proxied", "prompt": "x", "max_tokens": 99999})
    assert bad.status_code == 400
    with pytest.raises(openai.RateLimitError):
        via.completions.create(model="proxied", prompt="red", max_tokens=2)


@pytest.mark.points(2)
@pytest.mark.slow
def test_smollm2_answers_over_the_api(make_server: Callable[..., RunningServer]) -> None:
    server = make_server(model="smollm2", served_model_name=None, max_model_len=2048,
                         cpu_threads=1)
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="x", max_retries=0,
                           timeout=300)
    assert [m.id for m in client.models.list()] == ["SmolLM2-135M-Instruct"]
    out = client.chat.completions.create(
        model="SmolLM2-135M-Instruct", temperature=0, max_tokens=24,
        messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert "paris" in (out.choices[0].message.content or "").lower()
