"""Failure recovery: a stage waits (with backoff) for a broker that is still starting."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiinfra_shared.procs.binaries import require_binary
from aiinfra_shared.procs.ports import free_port

from streamml.adapters.kafka import wait_for_broker

pytestmark = pytest.mark.integration


@pytest.mark.points(3)
def test_waits_with_backoff_until_the_broker_comes_up(
        service_process: Callable[..., Any], tmp_path: Path) -> None:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    outcome: list[Any] = []

    def stage() -> None:
        try:
            outcome.append(wait_for_broker(bootstrap, timeout=60))
        except Exception as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=stage, daemon=True)
    waiter.start()
    waiter.join(1.5)
    assert waiter.is_alive() and not outcome  # still retrying: nothing listens yet
    service_process("late-broker", [require_binary("noida-db", "uv sync"), "start",
                                    "--data-dir", str(tmp_path / "data"), "--only", "kafka",
                                    "--kafka-port", str(port)],
                    ready_tcp=("127.0.0.1", port))
    waiter.join(60)
    assert outcome and isinstance(outcome[0], list), outcome
