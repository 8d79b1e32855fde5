"""Exactly-once scoring through crashes: kill -9 mid-transaction, SIGTERM, zombie fencing."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streamml import model, stages
from streamml.config import Settings
from streamml.errors import FencedError
from streamml.processor import ProcessorOptions, TransactionalProcessor
from tests.helpers import feature_frame, produce_valid, read_topic, sample_events
from tests.integration.conftest import EXE, settings_env

pytestmark = pytest.mark.integration


def _prepare(s: Settings, events: int) -> list[str]:
    stages.create_topics(s)
    batch = sample_events(events)
    produce_valid(s.kafka.bootstrap_servers, s.kafka.schema_registry_url, s.kafka.valid_topic,
                  batch)
    fitted, card = model.train(feature_frame())
    model.save(fitted, card, Path(s.scoring.model_path))
    return [e["event_id"] for e in batch]


def _wait_line(stream: Any, needle: str, timeout: float) -> str:
    """Read stderr lines until one contains `needle` (in a thread: readline blocks)."""
    found: list[str] = []

    def reader() -> None:
        for line in stream:
            if needle in line:
                found.append(line)
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(timeout)
    assert found, f"no line with {needle!r} within {timeout}s"
    return found[0]


def _predicted_ids(s: Settings, committed: bool = True) -> Counter[str]:
    return Counter(json.loads(m.value())["event_id"]
                   for m in read_topic(s.kafka.bootstrap_servers, s.kafka.predictions_topic,
                                       committed))


@pytest.mark.points(10)
def test_kill_9_mid_transaction_then_restart_scores_each_event_exactly_once(
        make_settings: Callable[..., Settings], wait_for: Any) -> None:
    s = make_settings("eos")
    ids = _prepare(s, 400)
    env = settings_env(s)  # 50 records per transaction
    crashed = subprocess.Popen([EXE, "score", "--fault-pause-after", "120"], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        _wait_line(crashed.stderr, "PAUSED mid-transaction", 60)
        # Two transactions committed; the third's 50 predictions are on the broker, open.
        assert sum(_predicted_ids(s).values()) == 100
        assert sum(_predicted_ids(s, committed=False).values()) == 150
    finally:
        crashed.send_signal(signal.SIGKILL)
        crashed.wait(10)
    restarted = subprocess.Popen([EXE, "score"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
    try:
        wait_for(lambda: sum(_predicted_ids(s).values()) >= 400, timeout=60, interval=0.5)
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(30) == 0
    finally:
        if restarted.poll() is None:
            restarted.kill()
    # SIGTERM: the last transaction committed, the consumer closed, exit 0.
    assert "stopped by SIGTERM" in (restarted.stdout.read() if restarted.stdout else "")
    predicted = _predicted_ids(s)
    assert set(predicted) == set(ids)
    assert set(predicted.values()) == {1}, "a read_committed reader saw an id twice"
    # The zombie's 50 uncommitted predictions are in the log, aborted and invisible.
    assert sum(_predicted_ids(s, committed=False).values()) == 450


class _Gate:
    """A transform that holds its first batch until released (a zombie's long GC pause)."""

    def __init__(self, codec_topic: str) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.topic = codec_topic
        self.first = True

    def __call__(self, messages: Any) -> list[Any]:
        from streamml.processor import Output

        if self.first:
            self.first = False
            self.entered.set()
            self.release.wait(60)
        return [Output(self.topic, None, m.value()) for m in messages]

    def aborted(self, messages: Any) -> None:
        """Stateless."""


@pytest.mark.points(4)
@pytest.mark.hidden
def test_a_zombie_instance_is_fenced_by_its_successor(
        make_settings: Callable[..., Settings]) -> None:
    s = make_settings("zombie")
    stages.create_topics(s)
    produce_valid(s.kafka.bootstrap_servers, s.kafka.schema_registry_url, s.kafka.valid_topic,
                  sample_events(60))
    options = ProcessorOptions(bootstrap=s.kafka.bootstrap_servers, group_id="zombie-group",
                               instance_id="copy", topics=[s.kafka.valid_topic], stage="test",
                               records_per_transaction=100, idle_exit_seconds=2.0)
    old_gate = _Gate(s.kafka.predictions_topic)
    zombie = TransactionalProcessor(options, old_gate)
    errors: list[BaseException] = []

    def run_zombie() -> None:
        try:
            zombie.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run_zombie, daemon=True)
    thread.start()
    assert old_gate.entered.wait(30)
    successor_gate = _Gate(s.kafka.predictions_topic)
    successor_gate.first = False
    successor = TransactionalProcessor(options, successor_gate)
    stats = successor.run()  # init_transactions fences the zombie
    old_gate.release.set()
    thread.join(30)
    assert errors and isinstance(errors[0], FencedError), errors
    assert stats.records_out == 60
    assert len(read_topic(s.kafka.bootstrap_servers, s.kafka.predictions_topic)) == 60
