"""A minimal OpenAI-compatible server for tests (chat completions + embeddings).

Stands in for exercise 110-01's server, which is a separate package: it exercises ragkit's real
HTTP client path (langchain-openai) on loopback. Chat answers quote the first numbered source
and cite it as [1]; embeddings are deterministic hashed bags of words (64 dimensions).
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from fastapi import FastAPI

app = FastAPI()
REQUESTS: list[dict[str, Any]] = []


def _vector(text: str, dim: int = 64) -> list[float]:
    vec = [0.0] * dim
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        vec[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dim] += 1.0
    return vec


@app.post("/v1/embeddings")
def embeddings(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    return {"object": "list", "model": body.get("model", "stub"),
            "data": [{"object": "embedding", "index": i, "embedding": _vector(str(t))}
                     for i, t in enumerate(inputs)],
            "usage": {"prompt_tokens": 0, "total_tokens": 0}}


@app.post("/v1/chat/completions")
def chat(body: dict[str, Any]) -> dict[str, Any]:
    prompt = "\n".join(str(m.get("content", "")) for m in body["messages"])
    match = re.search(r"\[1\] \([^)]*\) (.+)", prompt)
    first = match.group(1).split(". ")[0] if match else "nothing"
    return {"id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant",
                                     "content": f"{first} [1]. See also [8]."}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
