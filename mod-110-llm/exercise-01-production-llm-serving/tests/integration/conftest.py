from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiinfra_shared.procs.ports import free_port

from llmserve.config import Settings
from llmserve.server import create_app


class RunningServer:
    """A real uvicorn server on loopback, in a thread of the test process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.port = settings.port
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None,
                                access_log=False, timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 300  # SmolLM2 loads slowly on a busy CPU
        while time.monotonic() < deadline:
            if self.server.started:
                return self
            if not self.thread.is_alive():
                raise RuntimeError("server thread died during startup")
            time.sleep(0.05)
        raise RuntimeError("server did not start in 300 s")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    @property
    def engine(self) -> Any:
        return self.app.state.holder["engine"]

    def metrics_text(self) -> str:
        return httpx.get(f"{self.base_url}/metrics", timeout=10).text

    def metric(self, name: str, labels: str = "") -> float:
        """Sum of the samples called `name` whose label text contains `labels`."""
        total = 0.0
        found = False
        for line in self.metrics_text().splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            key, value = line.rsplit(" ", 1)
            metric_name = key.split("{", 1)[0]
            if metric_name == name and labels in key:
                total += float(value)
                found = True
        return total if found else 0.0


@pytest.fixture
def make_server(tiny_model_dir: Path) -> Iterator[Callable[..., RunningServer]]:
    """Factory: `make_server(max_num_seqs=4, ...)` -> a started server on the tiny model."""
    started: list[RunningServer] = []

    def start(**overrides: Any) -> RunningServer:
        values: dict[str, Any] = {"model": str(tiny_model_dir), "served_model_name": "tiny",
                                  "engine": "transformers", "device": "cpu",
                                  "port": free_port(), "max_model_len": 4096,
                                  "cpu_threads": 1}
        values.update(overrides)
        server = RunningServer(Settings(**values)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
