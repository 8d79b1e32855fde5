"""The interface every engine implements, and the values that cross it.

The HTTP layer only speaks `GenerationRequest` in and `StreamEvent`s out, so the same
server, admission control and metrics work for the in-process transformers engine, vLLM and
an upstream proxy.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Protocol


class EngineError(Exception):
    """A request the engine cannot serve; `status` and `code` map to the OpenAI error shape."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid_request_error",
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param


@dataclass(frozen=True)
class SamplingParams:
    """OpenAI sampling fields, already validated by the HTTP layer."""

    max_tokens: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    ignore_eos: bool = False

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


@dataclass
class GenerationRequest:
    """One request: either a raw `prompt` or chat `messages` (the engine applies the template)."""

    request_id: str
    params: SamplingParams
    prompt: str | None = None
    messages: list[dict[str, Any]] | None = None
    priority: int = 0
    arrival: float = field(default_factory=time.monotonic)
    timeout_s: float | None = None


@dataclass
class StreamEvent:
    """A piece of output. The last event has `finish_reason` set and carries the usage."""

    text: str = ""
    new_tokens: int = 0
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    queue_time_s: float | None = None
    error: EngineError | None = None


@dataclass(frozen=True)
class EngineStats:
    """Live numbers for gauges and admission control."""

    waiting: int
    running: int
    kv_cache_usage: float
    max_num_seqs: int


class Engine(Protocol):
    """What the server needs from an engine."""

    model_name: str
    max_model_len: int

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def count_prompt_tokens(self, request: GenerationRequest) -> int:
        """Prompt length after templating (for max_model_len checks and rate limits)."""
        ...

    def generate(self, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        """Stream the output; closing the iterator aborts the request and frees its slot."""
        ...

    def stats(self) -> EngineStats: ...
