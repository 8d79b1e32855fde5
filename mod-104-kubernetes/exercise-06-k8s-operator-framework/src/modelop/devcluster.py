"""A local stand-in cluster for `modelop demo` and the benchmark: kmock's API emulator (via
aiinfra_shared) plus a loop that plays kubelet and the Deployment controller.

kmock stores objects but runs nothing: no pods ever start, so no Deployment ever reports
ready pods. `FakeKubelet` writes what those controllers would (status.replicas,
readyReplicas, updatedReplicas, observedGeneration) through the API, so the operator sees
the same status fields as on a real cluster. Demo and benchmark only; the tests set
Deployment status themselves.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from modelop.adapters.kube import ApiError, KubeApi


def deployment_status(deployment: dict[str, Any], ready: bool = True) -> dict[str, Any]:
    replicas = int((deployment.get("spec") or {}).get("replicas", 1))
    generation = int((deployment.get("metadata") or {}).get("generation") or 1)
    count = replicas if ready else 0
    return {"observedGeneration": generation, "replicas": replicas,
            "updatedReplicas": replicas, "readyReplicas": count, "availableReplicas": count}


class FakeKubelet:
    """Marks every Deployment's pods ready, shortly after each change."""

    def __init__(self, list_deployments: Callable[[], list[dict[str, Any]]], api: KubeApi,
                 interval: float = 0.3) -> None:
        self.list_deployments = list_deployments
        self.api = api
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fake-kubelet", daemon=True)

    def start(self) -> FakeKubelet:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def sync_once(self) -> int:
        written = 0
        for dep in self.list_deployments():
            want = deployment_status(dep)
            have = dep.get("status") or {}
            if all(have.get(k) == v for k, v in want.items()):
                continue
            meta = dep["metadata"]
            try:
                self.api.patch("Deployment", meta["namespace"], meta["name"],
                               {"status": want}, subresource="status")
                written += 1
            except ApiError:
                pass  # deleted in between: the next pass sees the current list
        return written

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sync_once()


class OperatorThread:
    """kopf's operator coroutine in a thread of its own, cluster-wide and standalone."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="modelop-operator",
                                        daemon=True)
        self.error: BaseException | None = None

    def _main(self) -> None:
        import kopf

        import modelop.handlers  # noqa: F401 - registers the handlers

        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await kopf.operator(clusterwide=True, standalone=True, stop_flag=self._stop)

        try:
            asyncio.run(run())
        except BaseException as exc:  # reported by the caller
            self.error = exc
            self._ready.set()

    def start(self) -> OperatorThread:
        self._thread.start()
        self._ready.wait(30)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)


def wait_until(check: Callable[[], Any], timeout: float, interval: float = 0.2,
               what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
