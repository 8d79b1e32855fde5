"""The upstream OpenAI-compatible server, behind one small async client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx


class UpstreamError(Exception):
    """The upstream could not be reached or answered with a server error."""


class Upstream:
    def __init__(self, base_url: str, api_key: str = "", timeout_s: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/", headers=headers,
                                        timeout=httpx.Timeout(timeout_s, connect=5.0))

    async def close(self) -> None:
        await self.client.aclose()

    async def ping(self) -> tuple[bool, str]:
        try:
            response = await self.client.get("models", timeout=2.0)
        except httpx.HTTPError as exc:
            return False, f"upstream unreachable: {type(exc).__name__}"
        if response.status_code != 200:
            return False, f"upstream /models answered {response.status_code}"
        return True, ""

    async def get_json(self, path: str) -> tuple[int, Any]:
        try:
            response = await self.client.get(path)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"upstream unreachable: {type(exc).__name__}: {exc}") from exc
        return response.status_code, _json_or_text(response)

    async def post_json(self, path: str, payload: dict[str, Any]) -> tuple[int, Any]:
        try:
            response = await self.client.post(path, json=payload)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"upstream unreachable: {type(exc).__name__}: {exc}") from exc
        return response.status_code, _json_or_text(response)

    async def open_stream(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        """Start a streaming POST; the caller relays `aiter_raw()` and must `aclose()` it."""
        request = self.client.build_request("POST", path, json=payload)
        try:
            return await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"upstream unreachable: {type(exc).__name__}: {exc}") from exc


async def relay(response: httpx.Response) -> AsyncIterator[bytes]:
    """Bytes of a streaming upstream response as they arrive, closing it at the end."""
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"error": "upstream_error", "message": response.text[:500]}
