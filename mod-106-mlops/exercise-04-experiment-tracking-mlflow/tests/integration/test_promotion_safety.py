"""Promotions are serialised and crash-safe (two CLI processes, a proxy that holds or cuts
requests at chosen points; no sleeps, only events)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mltrack import training
from mltrack.cli import cli
from tests.integration.proxy import Request, proxy

pytestmark = pytest.mark.integration

MEDIOCRE = training.SklearnParams(alpha=0.2, eta0=0.001, epochs=2)
GOOD = training.SklearnParams(alpha=1e-4, eta0=0.01, epochs=20)
DEADLINE = 240.0  # only a failure bound: nothing below asserts on elapsed time
EXE = str(Path(sys.executable).parent / "mltrack")


def _spawn(args: list[str], env: dict[str, str], uri: str) -> subprocess.Popen[str]:
    return subprocess.Popen([EXE, "--tracking-uri", uri, *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **env})


def _history(name: str, env: dict[str, str]) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["history", name, "--json"], env=env)
    assert result.exit_code == 0, result.output
    intervals: list[dict[str, Any]] = json.loads(result.stdout)
    return intervals


def _is_champion_move(request: Request, name: str) -> bool:
    body = request.json()
    return (request.is_api("POST", "registered-models/alias") and body.get("name") == name
            and body.get("alias") == "champion")


@pytest.mark.points(8)
def test_concurrent_promotions_are_serialised(settings: Any, tracker: Any, stack: Any,
                                              cli_env: dict[str, str]) -> None:
    name = settings.model_name
    for params in (MEDIOCRE, GOOD, GOOD):
        training.train_sklearn(tracker, settings.experiment, params, register_as=name)
    assert CliRunner().invoke(cli, ["promote", name, "--candidate", "1"],
                              env=cli_env).exit_code == 0

    held, release = threading.Event(), threading.Event()

    def hold_champion_move(request: Request) -> None:  # A: stop just before the alias move
        if _is_champion_move(request, name) and not held.is_set():
            held.set()
            release.wait(DEADLINE)

    def see_b_waiting(request: Request, status: int) -> None:  # B blocked by A's promotion
        if request.is_api("POST", "registered-models/create") and status != 200:
            release.set()

    with proxy(stack.tracking_uri, hook=hold_champion_move) as via_a, \
            proxy(stack.tracking_uri, after=see_b_waiting) as via_b:
        first = _spawn(["promote", name, "--candidate", "2"], cli_env, via_a)
        assert held.wait(DEADLINE), first.communicate()
        second = _spawn(["promote", name, "--candidate", "3"], cli_env, via_b)
        waiter = threading.Thread(target=lambda: (second.wait(DEADLINE), release.set()))
        waiter.start()
        release.wait(DEADLINE)
        _, err_a = first.communicate(timeout=DEADLINE)
        _, err_b = second.communicate(timeout=DEADLINE)
        waiter.join()
    assert first.returncode == 0, err_a
    assert second.returncode == 0, err_b
    # B ran after A: it was judged against v2 and replaced it; the history is one chain
    assert dict(tracker.registered_model(name).aliases)["champion"] == "3"
    assert tracker.version(name, "3").tags["mltrack.previous_champion"] == "2"
    assert [i["version"] for i in _history(name, cli_env)] == ["1", "2", "3"]
    back = CliRunner().invoke(cli, ["rollback", name], env=cli_env)
    assert back.exit_code == 0 and "v3 -> v2" in back.output, back.output
    assert not [m for m in tracker.client.search_registered_models()
                if m.name.startswith(name) and m.name != name]  # no lock left behind


@pytest.mark.points(7)
@pytest.mark.hidden
def test_crash_between_alias_move_and_history_is_repaired(
        settings: Any, tracker: Any, stack: Any, cli_env: dict[str, str]) -> None:
    name = settings.model_name
    for params in (MEDIOCRE, GOOD):
        training.train_sklearn(tracker, settings.experiment, params, register_as=name)
    assert CliRunner().invoke(cli, ["promote", name, "--candidate", "1"],
                              env=cli_env).exit_code == 0

    writes: list[str] = []
    crashed, killed = threading.Event(), threading.Event()

    def crash_after_first_write(request: Request) -> str | None:
        body = request.json()
        history_tag = (request.is_api("POST", "registered-models/set-tag")
                       and body.get("name") == name
                       and str(body.get("key", "")).startswith("mltrack.history."))
        if not (history_tag or _is_champion_move(request, name)):
            return None
        writes.append(request.path)
        if len(writes) == 1:
            return None  # the first of the two writes lands...
        crashed.set()  # ...and the process dies before the second one
        killed.wait(DEADLINE)
        return "drop"

    with proxy(stack.tracking_uri, hook=crash_after_first_write) as via:
        process = _spawn(["promote", name, "--candidate", "2"], cli_env, via)
        done = threading.Thread(target=lambda: (process.wait(DEADLINE), crashed.set()))
        done.start()
        assert crashed.wait(DEADLINE)
        assert process.poll() is None, process.communicate()  # still mid-promotion
        process.send_signal(signal.SIGKILL)
        process.wait(DEADLINE)
        killed.set()
        done.join()
        process.communicate()

    # Whatever landed, history and the alias agree once the next command runs, and rollback
    # goes back to the champion v2 replaced (v1).
    back = CliRunner().invoke(cli, ["rollback", name, "--reason", "after crash"], env=cli_env)
    assert back.exit_code == 0, back.output
    assert "v2 -> v1" in back.output
    assert dict(tracker.registered_model(name).aliases)["champion"] == "1"
    assert [(i["version"], i["action"]) for i in _history(name, cli_env)] == [
        ("1", "promote"), ("2", "promote"), ("1", "rollback")]
