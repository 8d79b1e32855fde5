"""Serving metrics in Prometheus format (names follow vLLM's `vllm:` metrics, prefixed llmserve_).

Latency histograms (TTFT, TPOT, inter-token, end-to-end, queue time), token and outcome
counters, live gauges read from the engine at scrape time, the decode batch-size histogram
that makes continuous batching visible, and an estimated cost per 1K output tokens from a
configured accelerator price.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from llmserve.engines.base import EngineStats

_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                    7.5, 10.0, 20.0, 40.0, 80.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServingMetrics:
    """One registry per server (tests run several servers in one process)."""

    def __init__(self, model: str, stats: Callable[[], EngineStats],
                 gpu_hourly_usd: float = 0.0) -> None:
        self.registry = CollectorRegistry()
        self.model = model
        self.gpu_hourly_usd = gpu_hourly_usd
        self.started = time.monotonic()
        r = self.registry
        labels = ["model"]
        self.ttft = Histogram("llmserve_time_to_first_token_seconds", "Time to first token",
                              labels, buckets=_LATENCY_BUCKETS, registry=r)
        self.tpot = Histogram("llmserve_time_per_output_token_seconds",
                              "Mean time per output token after the first, per request",
                              labels, buckets=_LATENCY_BUCKETS, registry=r)
        self.itl = Histogram("llmserve_inter_token_latency_seconds",
                             "Time between consecutive streamed outputs", labels,
                             buckets=_LATENCY_BUCKETS, registry=r)
        self.e2e = Histogram("llmserve_e2e_request_latency_seconds", "End-to-end latency",
                             labels, buckets=_LATENCY_BUCKETS, registry=r)
        self.queue_time = Histogram("llmserve_request_queue_time_seconds",
                                    "Time waiting before the engine admitted the request",
                                    labels, buckets=_LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("llmserve_decode_batch_size",
                                    "Sequences in the batch at each decode step", labels,
                                    buckets=_BATCH_BUCKETS, registry=r)
        self.prompt_tokens = Counter("llmserve_prompt_tokens", "Prompt tokens processed",
                                     labels, registry=r)
        self.generation_tokens = Counter("llmserve_generation_tokens", "Tokens generated",
                                         labels, registry=r)
        self.requests = Counter("llmserve_requests", "Requests by outcome",
                                [*labels, "outcome"], registry=r)
        Gauge("llmserve_num_requests_waiting", "Requests waiting for a batch slot",
              registry=r).set_function(lambda: stats().waiting)
        Gauge("llmserve_num_requests_running", "Requests in the running batch",
              registry=r).set_function(lambda: stats().running)
        Gauge("llmserve_kv_cache_usage_ratio", "Share of the KV-cache capacity in use (0-1)",
              registry=r).set_function(lambda: stats().kv_cache_usage)
        Gauge("llmserve_estimated_cost_per_1k_tokens_usd",
              "Accelerator cost since start divided by output tokens, per 1000 tokens",
              registry=r).set_function(self.cost_per_1k_tokens)
        self._generated = 0

    def observe_step(self, batch_size: int) -> None:
        self.batch_size.labels(self.model).observe(batch_size)

    def record(self, outcome: str, prompt_tokens: int = 0, completion_tokens: int = 0,
               ttft: float | None = None, e2e: float | None = None,
               queue_time: float | None = None) -> None:
        """Account one finished request (every outcome, so counters match responses)."""
        # BEGIN SOLUTION: count outcome and tokens; observe TTFT, E2E, TPOT, queue time
        model = self.model
        self.requests.labels(model, outcome).inc()
        if prompt_tokens:
            self.prompt_tokens.labels(model).inc(prompt_tokens)
        if completion_tokens:
            self.generation_tokens.labels(model).inc(completion_tokens)
            self._generated += completion_tokens
        if ttft is not None:
            self.ttft.labels(model).observe(ttft)
        if e2e is not None:
            self.e2e.labels(model).observe(e2e)
            if ttft is not None and completion_tokens > 1:
                self.tpot.labels(model).observe((e2e - ttft) / (completion_tokens - 1))
        if queue_time is not None:
            self.queue_time.labels(model).observe(queue_time)
        # END SOLUTION

    def observe_itl(self, seconds: float) -> None:
        self.itl.labels(self.model).observe(seconds)

    def cost_per_1k_tokens(self) -> float:
        """gpu $/h x hours up / output tokens x 1000 (0 until a token was produced)."""
        # BEGIN SOLUTION: accelerator cost since start per 1000 output tokens
        if not self._generated or not self.gpu_hourly_usd:
            return 0.0
        hours = (time.monotonic() - self.started) / 3600.0
        return self.gpu_hourly_usd * hours / self._generated * 1000.0
        # END SOLUTION

    def render(self) -> bytes:
        return generate_latest(self.registry)
