"""The OpenAI-compatible HTTP service (FastAPI): thin routes over engine + admission + metrics.

Request path: size limit -> API key -> body validation -> model check -> prompt length ->
per-key rate limit (a reservation, settled with the tokens used when the request ends) ->
bounded queue (an atomic counter) -> engine, at the priority of the key's tier.
Every failure is an OpenAI-shaped JSON error with a 4xx/5xx status; nothing reaches the
client as a bare 500 or a hung connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from aiinfra_shared.logging import RequestIdMiddleware
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from llmserve import protocol
from llmserve.admission import (
    AdmissionGate,
    RateLimiter,
    Rejection,
    check_api_key,
    priority_for_key,
)
from llmserve.config import Settings
from llmserve.engines.base import (
    Engine,
    EngineError,
    EngineStats,
    GenerationRequest,
    StreamEvent,
)
from llmserve.metrics import ServingMetrics

log = logging.getLogger(__name__)
T = TypeVar("T")


class _DisconnectedError(Exception):
    """The client went away before the answer was ready."""


def error_response(status: int, message: str, code: str | None = None,
                   param: str | None = None, headers: dict[str, str] | None = None
                   ) -> JSONResponse:
    # BEGIN SOLUTION: OpenAI error JSON, type chosen from the status
    type_ = ("invalid_request_error" if status < 500 and status not in (401, 429)
             else "authentication_error" if status == 401
             else "rate_limit_error" if status == 429 else "server_error")
    return JSONResponse(protocol.error_body(message, type_, param, code), status_code=status,
                        headers=headers)
    # END SOLUTION


def _rejection_response(rejection: Rejection) -> JSONResponse:
    headers = ({"Retry-After": str(rejection.retry_after_s)}
               if rejection.retry_after_s is not None else None)
    return error_response(rejection.status, rejection.message, rejection.code, headers=headers)


class _BodyLimit:
    """Pure-ASGI guard: refuse bodies over `limit` bytes with 413 before they are parsed."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._reject(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLargeError
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLargeError:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Any, receive: Any, send: Any) -> None:
        response = error_response(413, f"request body larger than {self.limit} bytes",
                                  "request_too_large")
        await response(scope, receive, send)


class _TooLargeError(Exception):
    pass


def create_app(settings: Settings, engine: Engine | None = None,
               on_ready: Callable[[], None] | None = None) -> FastAPI:
    """Build the app; without `engine`, the one named in `settings` is loaded at startup."""
    state: dict[str, Any] = {"engine": engine}

    def stats() -> EngineStats:
        current = state["engine"]
        return current.stats() if current is not None else EngineStats(0, 0, 0.0, 1)

    metrics = ServingMetrics(settings.model_name, stats, settings.gpu_hourly_usd)
    limiter = RateLimiter(settings.rate_limit_rpm, settings.rate_limit_tpm)
    gate = AdmissionGate(settings.max_num_seqs, settings.max_queue_size)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if state["engine"] is None:
            from llmserve.engines.factory import build_engine

            state["engine"] = await asyncio.to_thread(build_engine, settings,
                                                      metrics.observe_step)
        await state["engine"].start()
        log.info("serving", extra={"model": settings.model_name})
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            await state["engine"].stop()

    app = FastAPI(title="llmserve", version="0.1.0", lifespan=lifespan)
    app.state.metrics = metrics
    app.state.settings = settings
    app.state.holder = state
    app.state.gate = gate

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(part) for part in first.get("loc", []) if part != "body"]
        if first.get("type") == "json_invalid":
            return error_response(400, "request body is not valid JSON", "invalid_json")
        where = ".".join(loc) or None
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else str(
            first.get("msg", "invalid request"))
        return error_response(400, message, "invalid_value", param=where)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, f"internal error: {type(exc).__name__}", "internal_error")

    @app.get("/health")
    async def health() -> Response:
        current = state["engine"]
        if current is None:
            return error_response(503, "engine not ready", "service_unavailable")
        return JSONResponse({"status": "ok", "model": settings.model_name})

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{
            "id": settings.model_name, "object": "model", "created": int(metrics.started),
            "owned_by": "llmserve", "max_model_len": _engine().max_model_len}]}

    def _engine() -> Engine:
        current = state["engine"]
        if current is None:
            raise EngineError("engine not ready", status=503, code="service_unavailable")
        return current  # type: ignore[no-any-return]

    async def _admit(request: Request, body: protocol._Body, gen: GenerationRequest,
                     chat: bool) -> Response:
        # BEGIN SOLUTION: key, model, context length, rate limit, queue bound, then run
        key, rejection = check_api_key(request.headers.get("authorization"), settings.api_keys)
        if rejection:
            return _rejection_response(rejection)
        if body.model != settings.model_name:
            return error_response(404, f"the model {body.model!r} does not exist; this server "
                                  f"serves {settings.model_name!r}", "model_not_found", "model")
        engine = _engine()
        try:
            prompt_tokens = await asyncio.to_thread(engine.count_prompt_tokens, gen)
        except EngineError as exc:
            return error_response(exc.status, str(exc), exc.code, exc.param)
        room = engine.max_model_len - prompt_tokens
        requested = (getattr(body, "max_completion_tokens", None) or body.max_tokens
                     or (room if chat else 16))
        if room < 1 or requested > room:
            return error_response(
                400, f"this model's maximum context length is {engine.max_model_len} tokens; "
                f"the request has {prompt_tokens} prompt tokens and asks for {requested} more",
                "context_length_exceeded", "max_tokens")
        gen.params = body.sampling(requested)
        gen.priority = priority_for_key(key, settings.priority_tiers, settings.api_key_tiers,
                                        settings.default_tier, body.priority)
        reserved = prompt_tokens + requested
        limited = limiter.check(key, reserved)
        if limited:
            metrics.record("rate_limited")
            return _rejection_response(limited)
        overloaded = gate.try_enter()  # no await between the check and the count
        if overloaded:
            limiter.settle(key, reserved, 0)
            metrics.record("rejected")
            return _rejection_response(overloaded)
        ticket = _Ticket(gate, limiter, key, reserved)
        try:
            return await _run(request, body, gen, chat, ticket)
        except BaseException:
            ticket.release()
            raise
        # END SOLUTION

    async def _run(request: Request, body: protocol._Body, gen: GenerationRequest,
                   chat: bool, ticket: _Ticket) -> Response:
        engine = _engine()
        stream = ticket.track(engine.generate(gen))
        timing = _Timing(gen.arrival)
        try:
            first = await _unless_disconnected(request, anext(stream))
        except _DisconnectedError:
            await stream.aclose()
            metrics.record("abort")
            return Response(status_code=499)
        except EngineError as exc:
            await stream.aclose()
            metrics.record("invalid")
            return error_response(exc.status, str(exc), exc.code, exc.param)
        except StopAsyncIteration:
            return error_response(500, "engine produced no output", "internal_error")
        if first.error is not None:
            await stream.aclose()
            metrics.record("timeout" if first.error.status == 504 else "error",
                           first.prompt_tokens, first.completion_tokens)
            return error_response(first.error.status, str(first.error), first.error.code)
        timing.event(first, metrics)
        if body.stream:
            return StreamingResponse(
                _sse(stream, first, body, gen, chat, timing),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        try:
            result = await _unless_disconnected(request, _collect(stream, first, timing))
        except _DisconnectedError:
            metrics.record("abort")
            return Response(status_code=499)
        finally:
            await stream.aclose()
        text, last = result
        if last.error is not None:
            metrics.record("timeout" if last.error.status == 504 else "error",
                           last.prompt_tokens, last.completion_tokens)
            return error_response(last.error.status, str(last.error), last.error.code)
        timing.finish(last, metrics)
        build = protocol.chat_response if chat else protocol.completion_response
        rid = protocol.new_id("chatcmpl" if chat else "cmpl")
        return JSONResponse(build(rid, settings.model_name, text, last.finish_reason,
                                  last.prompt_tokens, last.completion_tokens))

    async def _collect(stream: AsyncGenerator[StreamEvent, None], first: StreamEvent,
                       timing: _Timing) -> tuple[str, StreamEvent]:
        parts = [first.text]
        last = first
        while last.finish_reason is None and last.error is None:
            last = await anext(stream)
            timing.event(last, metrics)
            parts.append(last.text)
        return "".join(parts), last

    async def _sse(stream: AsyncGenerator[StreamEvent, None], first: StreamEvent,
                   body: protocol._Body, gen: GenerationRequest, chat: bool,
                   timing: _Timing) -> AsyncIterator[str]:
        # BEGIN SOLUTION: OpenAI SSE chunks, usage chunk, error event, data: [DONE]
        rid = protocol.new_id("chatcmpl" if chat else "cmpl")
        created = int(time.time())
        model = settings.model_name
        obj = "chat.completion.chunk" if chat else "text_completion"
        last = first
        finished = False

        def chunk(text: str, finish: str | None, role: bool = False) -> str:
            if chat:
                delta: dict[str, Any] = {"role": "assistant", "content": text} if role else (
                    {"content": text} if text else {})
                payload = protocol.chat_chunk(rid, model, created, delta, finish)
            else:
                payload = protocol.completion_chunk(rid, model, created, text, finish)
            return f"data: {json.dumps(payload)}\n\n"

        try:
            event = first
            role_sent = False
            while True:
                if event.error is not None:
                    metrics.record("timeout" if event.error.status == 504 else "error",
                                   event.prompt_tokens, event.completion_tokens)
                    finished = True
                    err = protocol.error_body(str(event.error), "server_error", None,
                                              event.error.code)
                    yield f"data: {json.dumps(err)}\n\n"
                    break
                if event.text or not role_sent or event.finish_reason:
                    yield chunk(event.text, event.finish_reason, role=chat and not role_sent)
                    role_sent = True
                last = event
                if event.finish_reason is not None:
                    finished = True
                    timing.finish(event, metrics)
                    if body.include_usage:
                        payload = protocol.usage_chunk(rid, model, created, obj,
                                                       event.prompt_tokens,
                                                       event.completion_tokens)
                        yield f"data: {json.dumps(payload)}\n\n"
                    break
                event = await anext(stream)
                timing.event(event, metrics)
            yield "data: [DONE]\n\n"
        finally:
            if not finished:  # the client went away mid-stream
                metrics.record("abort", last.prompt_tokens, last.completion_tokens)
            await stream.aclose()
        # END SOLUTION

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request, body: protocol.ChatCompletionRequest
                               ) -> Response:
        try:
            messages = [message.as_template_dict() for message in body.messages]
        except ValueError as exc:
            return error_response(400, str(exc), "invalid_value", "messages")
        gen = GenerationRequest(request_id=protocol.new_id("req"), params=body.sampling(1),
                                messages=messages, priority=body.priority,
                                timeout_s=settings.request_timeout_s)
        return await _guard(_admit(request, body, gen, chat=True))

    @app.post("/v1/completions")
    async def completions(request: Request, body: protocol.CompletionRequest) -> Response:
        gen = GenerationRequest(request_id=protocol.new_id("req"), params=body.sampling(1),
                                prompt=body.text, priority=body.priority,
                                timeout_s=settings.request_timeout_s)
        return await _guard(_admit(request, body, gen, chat=False))

    async def _guard(call: Awaitable[Response]) -> Response:
        try:
            return await call
        except EngineError as exc:
            return error_response(exc.status, str(exc), exc.code, exc.param)

    return _wrap(app, settings)


def _wrap(app: FastAPI, settings: Settings) -> FastAPI:
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    return app


class _Ticket:
    """An admitted request's place in the gate and its token reservation.

    `track` wraps the engine stream: it remembers the tokens used so far, and when the stream
    is closed (finished, failed, cancelled, client gone, or garbage-collected) it leaves the
    gate and settles the reservation, exactly once.
    """

    def __init__(self, gate: AdmissionGate, limiter: RateLimiter, key: str,
                 reserved: int) -> None:
        self.gate = gate
        self.limiter = limiter
        self.key = key
        self.reserved = reserved
        self.used = 0
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.gate.leave()
            self.limiter.settle(self.key, self.reserved, self.used)

    async def track(self, stream: AsyncGenerator[StreamEvent, None]
                    ) -> AsyncGenerator[StreamEvent, None]:
        try:
            async for event in stream:
                self.used = max(self.used, event.prompt_tokens + event.completion_tokens)
                yield event
        finally:
            await stream.aclose()
            self.release()


class _Timing:
    """Per-request latency bookkeeping for the histograms."""

    def __init__(self, arrival: float) -> None:
        self.arrival = arrival
        self.first: float | None = None
        self.previous: float | None = None
        self.queue_time: float | None = None

    def event(self, event: StreamEvent, metrics: ServingMetrics) -> None:
        now = time.monotonic()
        if event.queue_time_s is not None:
            self.queue_time = event.queue_time_s
        if event.new_tokens or event.text:
            if self.first is None:
                self.first = now
            elif self.previous is not None:
                metrics.observe_itl(now - self.previous)
            self.previous = now

    def finish(self, event: StreamEvent, metrics: ServingMetrics) -> None:
        now = time.monotonic()
        ttft = self.first - self.arrival if self.first is not None else None
        metrics.record("success", event.prompt_tokens, event.completion_tokens, ttft=ttft,
                       e2e=now - self.arrival, queue_time=self.queue_time)


async def _unless_disconnected(request: Request, awaitable: Awaitable[T]) -> T:
    """Await `awaitable`, but give up (and cancel it) if the client disconnects."""
    task = asyncio.ensure_future(awaitable)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.25)
            if done:
                return task.result()
            if await request.is_disconnected():
                raise _DisconnectedError
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
