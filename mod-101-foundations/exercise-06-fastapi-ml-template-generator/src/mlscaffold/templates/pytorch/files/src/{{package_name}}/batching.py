"""Request micro-batching: concurrent requests share one forward pass.

Requests wait in a bounded queue; a single worker task takes the first and everything already
queued behind it (up to `max_batch_size` rows), stacks the rows, runs the model once (in a
thread, so the event loop keeps accepting requests) and hands each caller its rows.

Adaptive: a request that finds nobody queued behind it is flushed at once, so at low load
batching adds no latency (a fixed wait would hold every lone request for `max_wait_ms` for
company that never comes). Only when requests are queued, which means the model is the
bottleneck, does the worker wait up to `max_wait_ms` for more, to fill the batch. A full
queue refuses new requests (`QueueFullError`, HTTP 503 with Retry-After) instead of letting
latency and memory grow without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Forward = Callable[[np.ndarray], np.ndarray]


class QueueFullError(RuntimeError):
    """The batch queue holds `max_queue_size` requests: shed load instead of queueing it."""


@dataclass
class _Pending:
    rows: np.ndarray
    future: asyncio.Future[np.ndarray]


class MicroBatcher:
    def __init__(self, forward: Forward, max_batch_size: int, max_wait_ms: float,
                 on_batch: Callable[[int], None] | None = None,
                 max_queue_size: int = 1024) -> None:
        self.forward = forward
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.on_batch = on_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=max_queue_size)
        self._worker: asyncio.Task[None] | None = None

    @property
    def queue_depth(self) -> int:
        """Requests waiting for a batch (not counting the one being computed)."""
        return self._queue.qsize()

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(RuntimeError("service shutting down"))

    async def submit(self, rows: np.ndarray) -> np.ndarray:
        """Queue `rows` (2-D) and wait for their outputs."""
        if self._worker is None:
            raise RuntimeError("micro-batcher is not running")
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(_Pending(rows, future))
        except asyncio.QueueFull:
            raise QueueFullError(f"batch queue full ({self._queue.maxsize} requests waiting)") \
                from None
        return await future

    async def _collect(self) -> list[_Pending]:
        batch = [await self._queue.get()]
        size = len(batch[0].rows)
        while size < self.max_batch_size and not self._queue.empty():
            item = self._queue.get_nowait()  # everything already waiting joins this batch
            batch.append(item)
            size += len(item.rows)
        if len(batch) == 1:
            return batch  # nobody queued: flush at once, waiting would only add latency
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while size < self.max_batch_size:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                item = await asyncio.wait_for(self._queue.get(), remaining)
            except TimeoutError:
                break
            batch.append(item)
            size += len(item.rows)
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._collect()
            try:
                outputs = await asyncio.to_thread(
                    self.forward, np.concatenate([p.rows for p in batch]))
            except Exception as exc:  # every waiting caller gets the error
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            if self.on_batch:
                self.on_batch(len(outputs))
            start = 0
            for pending in batch:
                end = start + len(pending.rows)
                if not pending.future.done():
                    pending.future.set_result(outputs[start:end])
                start = end
