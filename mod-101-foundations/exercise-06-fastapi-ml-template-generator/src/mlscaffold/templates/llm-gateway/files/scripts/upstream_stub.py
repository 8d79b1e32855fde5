"""A tiny OpenAI-compatible server for tests and local runs: it echoes the last user message.

    uvicorn upstream_stub:app --app-dir scripts --port 8080

Not a model: it exists so the gateway can be exercised end to end (JSON and SSE streaming)
without a GPU. Point APP_UPSTREAM_URL at a real server (vLLM, llama.cpp, Ollama) in production.
A message "__fail__" makes it answer 500, to test the gateway's error path.
STUB_CHUNK_DELAY_S (default 0) spaces the streamed chunks out, as a model generating tokens
does, so tests can tell a streaming relay from one that buffers the whole answer.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

app = FastAPI(title="upstream stub")
CHUNK_DELAY_S = float(os.environ.get("STUB_CHUNK_DELAY_S", "0"))


@app.get("/v1/models")
def models() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": "stub-echo", "object": "model"}]}


def _reply(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    return "echo: " + str(users[-1]["content"] if users else "")


@app.post("/v1/chat/completions", response_model=None)
async def chat(request: Request) -> JSONResponse | StreamingResponse:
    body = await request.json()
    text = _reply(body)
    if text == "echo: __fail__":
        return JSONResponse({"error": {"message": "stub failure"}}, status_code=500)
    model = body.get("model", "stub-echo")
    created = int(time.time())
    if not body.get("stream"):
        words = len(text.split())
        return JSONResponse({
            "id": "chatcmpl-stub", "object": "chat.completion", "created": created,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": words - 1, "completion_tokens": words,
                      "total_tokens": 2 * words - 1},
        })

    def events() -> Iterator[str]:
        for i, word in enumerate(text.split(" ")):
            if i and CHUNK_DELAY_S:
                time.sleep(CHUNK_DELAY_S)  # a sync generator: Starlette runs it in a thread
            delta = {"content": word if i == 0 else " " + word}
            chunk = {"id": "chatcmpl-stub", "object": "chat.completion.chunk",
                     "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            yield f"data: {json.dumps(chunk)}\n\n"
        final = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": created,
                 "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        yield f"data: {json.dumps(final)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
