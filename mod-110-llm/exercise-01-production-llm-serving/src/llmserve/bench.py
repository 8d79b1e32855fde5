"""Load generator in the style of `vllm bench serve`: streams completions, measures latency.

Arrivals are either a fixed number of concurrent clients (`concurrency`) or a Poisson
process (`request_rate` per second, optionally capped by `concurrency`). Each request
streams `/v1/completions` with `ignore_eos` so every request produces exactly `max_tokens`
tokens, and records TTFT, every inter-token gap, TPOT and end-to-end latency.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

DEFAULT_PROMPTS = [
    "Explain what a KV cache is in one paragraph.",
    "Write a haiku about GPUs.",
    "What is continuous batching in LLM serving?",
    "List three uses of Prometheus histograms.",
    "Describe the water cycle briefly.",
    "Give two tips for writing clear Python code.",
    "What is the capital of France, and why is it famous?",
    "Summarise the idea of tensor parallelism.",
]


@dataclass
class RequestResult:
    ok: bool
    ttft: float = 0.0
    e2e: float = 0.0
    itl: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    output_tokens: int = 0
    error: str = ""
    start: float = 0.0

    @property
    def tpot(self) -> float:
        return (self.e2e - self.ttft) / (self.output_tokens - 1) if self.output_tokens > 1 else 0.0


@dataclass
class BenchConfig:
    base_url: str
    model: str
    prompts: list[str]
    num_prompts: int = 32
    max_tokens: int = 32
    concurrency: int | None = 16
    request_rate: float | None = None
    seed: int = 0
    slo_ttft_s: float | None = None
    slo_tpot_s: float | None = None
    api_key: str | None = None
    timeout_s: float = 600.0


def load_prompts(path: Path | None) -> list[str]:
    """Prompts from a .txt (one a line) or .jsonl (`prompt` or `text` field) file."""
    if path is None:
        return list(DEFAULT_PROMPTS)
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if path.suffix == ".jsonl":
        prompts = []
        for number, line in enumerate(lines, 1):
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
            text = item.get("prompt") or item.get("text") if isinstance(item, dict) else None
            if not isinstance(text, str):
                raise ValueError(f"{path}:{number}: expected an object with a 'prompt' field")
            prompts.append(text)
        lines = prompts
    if not lines:
        raise ValueError(f"{path}: no prompts")
    return lines


async def _one(client: httpx.AsyncClient, config: BenchConfig, prompt: str) -> RequestResult:
    # BEGIN SOLUTION: stream one completion; record TTFT, inter-token gaps, usage, errors
    body = {"model": config.model, "prompt": prompt, "max_tokens": config.max_tokens,
            "temperature": 0.0, "stream": True, "ignore_eos": True,
            "stream_options": {"include_usage": True}}
    start = time.perf_counter()
    result = RequestResult(ok=False, start=start)
    last = start
    text_chunks = 0
    try:
        async with client.stream("POST", "/v1/completions", json=body) as response:
            if response.status_code != 200:
                await response.aread()
                result.error = f"HTTP {response.status_code}: {response.text[:200]}"
                return result
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    result.error = str(chunk["error"].get("message"))
                    return result
                now = time.perf_counter()
                if chunk.get("usage"):
                    result.prompt_tokens = chunk["usage"]["prompt_tokens"]
                    result.output_tokens = chunk["usage"]["completion_tokens"]
                if chunk.get("choices") and chunk["choices"][0].get("text"):
                    text_chunks += 1
                    if result.ttft == 0.0:
                        result.ttft = now - start
                    else:
                        result.itl.append(now - last)
                    last = now
        result.e2e = time.perf_counter() - start
        if result.output_tokens == 0:  # a server that sends no usage: one token per chunk
            result.output_tokens = text_chunks
        result.ok = True
    except httpx.HTTPError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result
    # END SOLUTION


async def run_benchmark(config: BenchConfig) -> tuple[list[RequestResult], float]:
    """Send `num_prompts` requests; return per-request results and the wall time."""
    rng = random.Random(config.seed)  # noqa: S311 - arrival times, not secrets
    prompts = [config.prompts[i % len(config.prompts)] for i in range(config.num_prompts)]
    limit = asyncio.Semaphore(config.concurrency or config.num_prompts)
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    limits = httpx.Limits(max_connections=(config.concurrency or config.num_prompts) + 4)
    async with httpx.AsyncClient(base_url=config.base_url, timeout=config.timeout_s,
                                 headers=headers, limits=limits) as client:

        async def gated(prompt: str) -> RequestResult:
            async with limit:
                return await _one(client, config, prompt)

        tasks = []
        started = time.perf_counter()
        for prompt in prompts:
            tasks.append(asyncio.create_task(gated(prompt)))
            if config.request_rate:
                await asyncio.sleep(rng.expovariate(config.request_rate))
        results = await asyncio.gather(*tasks)
        return list(results), time.perf_counter() - started


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "p50": 0.0, "p90": 0.0, "p95": 0.0, "p99": 0.0}
    array = np.asarray(values) * 1000.0
    return {"mean": float(array.mean()),
            **{f"p{q}": float(np.percentile(array, q)) for q in (50, 90, 95, 99)}}


def summarise(results: list[RequestResult], duration: float, config: BenchConfig
              ) -> dict[str, Any]:
    """The `vllm bench serve` style report (latencies in milliseconds)."""
    # BEGIN SOLUTION: throughputs, goodput under the SLOs, latency percentiles in ms
    ok = [r for r in results if r.ok]
    output = sum(r.output_tokens for r in ok)
    prompt = sum(r.prompt_tokens for r in ok)
    good = [r for r in ok
            if (config.slo_ttft_s is None or r.ttft <= config.slo_ttft_s)
            and (config.slo_tpot_s is None or r.tpot <= config.slo_tpot_s)]
    return {
        "config": {k: v for k, v in asdict(config).items() if k not in ("prompts", "api_key")},
        "completed": len(ok), "failed": len(results) - len(ok),
        "errors": sorted({r.error for r in results if not r.ok})[:5],
        "duration_s": duration,
        "total_input_tokens": prompt, "total_output_tokens": output,
        "request_throughput": len(ok) / duration if duration else 0.0,
        "output_throughput": output / duration if duration else 0.0,
        "total_token_throughput": (prompt + output) / duration if duration else 0.0,
        "goodput": len(good) / duration if duration else 0.0,
        "ttft_ms": _percentiles([r.ttft for r in ok]),
        "tpot_ms": _percentiles([r.tpot for r in ok if r.output_tokens > 1]),
        "itl_ms": _percentiles([gap for r in ok for gap in r.itl]),
        "e2e_ms": _percentiles([r.e2e for r in ok]),
    }
    # END SOLUTION


def plot(results: list[RequestResult], path: Path, title: str) -> None:
    """TTFT and TPOT distributions plus latency over time, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in results if r.ok]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    axes[0].hist([r.ttft * 1000 for r in ok], bins=20, color="tab:blue")
    axes[0].set(title="TTFT", xlabel="ms", ylabel="requests")
    axes[1].hist([r.tpot * 1000 for r in ok if r.output_tokens > 1], bins=20, color="tab:green")
    axes[1].set(title="TPOT", xlabel="ms/token")
    first = min((r.start for r in ok), default=0.0)
    axes[2].scatter([r.start - first for r in ok], [r.e2e for r in ok], s=10)
    axes[2].set(title="end-to-end latency", xlabel="request start (s)", ylabel="s")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
