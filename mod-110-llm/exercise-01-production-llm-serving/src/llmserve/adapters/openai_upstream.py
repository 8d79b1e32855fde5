"""The `openai` engine: proxy to another OpenAI-compatible server (vLLM, TGI, SGLang, OpenAI).

Requests are forwarded with `stream=true` and the upstream's SSE chunks are turned back
into `StreamEvent`s, so admission control, rate limits and metrics of this server apply in
front of any upstream. Prompt token counts for rate limiting are estimated (4 chars/token)
because the upstream tokenizer is not available here; the usage reported to clients is the
upstream's own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from llmserve.engines.base import EngineError, EngineStats, GenerationRequest, StreamEvent


class OpenAIUpstreamEngine:
    def __init__(self, base_url: str, model: str, served_name: str, max_model_len: int,
                 api_key: str | None = None, max_num_seqs: int = 64) -> None:
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[:-3]
        self.upstream_model = model
        self.model_name = served_name
        self.max_model_len = max_model_len
        self.max_num_seqs = max_num_seqs
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers,
                                         timeout=httpx.Timeout(600.0, connect=5.0))
        self._in_flight = 0

    async def start(self) -> None:
        """Check the upstream answers and learn its context length when it reports one."""
        try:
            response = await self._client.get("/v1/models")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise EngineError(f"upstream {self.base_url} unreachable: {exc}", status=502,
                              code="upstream_unavailable") from exc
        for item in response.json().get("data", []):
            if item.get("id") == self.upstream_model and item.get("max_model_len"):
                self.max_model_len = int(item["max_model_len"])

    async def stop(self) -> None:
        await self._client.aclose()

    def count_prompt_tokens(self, request: GenerationRequest) -> int:
        if request.messages is not None:
            chars = sum(len(str(m.get("content", ""))) + 8 for m in request.messages)
        else:
            chars = len(request.prompt or "")
        return max(1, chars // 4)

    def stats(self) -> EngineStats:
        return EngineStats(waiting=0, running=self._in_flight, kv_cache_usage=0.0,
                           max_num_seqs=self.max_num_seqs)

    def payload(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        """The upstream path and JSON body for `request`."""
        params = request.params
        body: dict[str, Any] = {
            "model": self.upstream_model, "max_tokens": params.max_tokens,
            "temperature": params.temperature, "top_p": params.top_p, "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if params.ignore_eos:
            body["ignore_eos"] = True
        if request.messages is not None:
            body["messages"] = request.messages
            return "/v1/chat/completions", body
        body["prompt"] = request.prompt or ""
        return "/v1/completions", body

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        path, body = self.payload(request)
        self._in_flight += 1
        try:
            async with self._client.stream("POST", path, json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise _upstream_error(response)
                finish: str | None = None
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if "error" in chunk:
                        error = chunk["error"]
                        yield StreamEvent(error=EngineError(error.get("message", "upstream error"),
                                                            status=502,
                                                            code=error.get("code") or "upstream"))
                        return
                    usage = chunk.get("usage")
                    if usage and not chunk.get("choices"):
                        yield StreamEvent(finish_reason=finish or "stop",
                                          prompt_tokens=usage["prompt_tokens"],
                                          completion_tokens=usage["completion_tokens"])
                        return
                    for choice in chunk.get("choices", []):
                        text = choice.get("text")
                        if text is None:
                            text = (choice.get("delta") or {}).get("content") or ""
                        finish = choice.get("finish_reason") or finish
                        if text:
                            yield StreamEvent(text=text, new_tokens=1)
                yield StreamEvent(finish_reason=finish or "stop")
        except httpx.HTTPError as exc:
            raise EngineError(f"upstream request failed: {exc}", status=502,
                              code="upstream_unavailable") from exc
        finally:
            self._in_flight -= 1


def _upstream_error(response: httpx.Response) -> EngineError:
    try:
        error = response.json().get("error", {})
        message = error.get("message") or response.text
        code = error.get("code")
    except ValueError:
        message, code = response.text, None
    status = response.status_code if response.status_code < 500 else 502
    return EngineError(f"upstream: {message}", status=status, code=code or "upstream_error")
