"""The `service_process` and `wait_for` fixtures, tested directly with real processes.

Every server fixture is built on them, so their failure paths matter: a service that never
becomes ready or exits early must say why (exit code, log tail), and `stop()` must leave no
process behind, children included.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aiinfra_shared.testing import ServiceProcess, ServiceStartError, free_port

pytestmark = pytest.mark.integration

StartService = Callable[..., ServiceProcess]


def _python(code: str) -> list[str]:
    return [sys.executable, "-u", "-c", textwrap.dedent(code)]


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (a reaped-later zombie is dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_ready_on_tcp_then_stopped(service_process: StartService) -> None:
    port = free_port()
    server = service_process("echo-server", _python(f"""
        import socket, time
        s = socket.socket(); s.bind(("127.0.0.1", {port})); s.listen()
        print("listening", flush=True)
        time.sleep(60)
    """), ready_tcp=("127.0.0.1", port), timeout=20)
    assert server.is_running() and "listening" in server.log_tail()
    server.stop()
    assert not server.is_running()


def test_readiness_timeout_raises_with_log_tail(service_process: StartService) -> None:
    started = time.monotonic()
    with pytest.raises(ServiceStartError) as failure:
        service_process("never-ready", _python("""
            print("warming up the cache", flush=True)
            import time; time.sleep(60)
        """), ready_tcp=("127.0.0.1", free_port()), timeout=2)
    message = str(failure.value)
    assert "never-ready did not become ready (timed out after 2s" in message
    assert message.rstrip().endswith("warming up the cache")  # the log tail closes it
    assert time.monotonic() - started < 15  # the process was stopped, not waited for


def test_early_exit_reports_the_exit_code(service_process: StartService) -> None:
    with pytest.raises(ServiceStartError) as failure:
        service_process("crasher", _python("""
            import sys
            print("config error: missing DATABASE_URL", file=sys.stderr, flush=True)
            sys.exit(3)
        """), ready_http=f"http://127.0.0.1:{free_port()}/healthz", timeout=30)
    message = str(failure.value)
    assert "exited with code 3" in message
    assert "config error: missing DATABASE_URL" in message  # stderr lands in the log too


def test_stop_kills_the_whole_process_group(service_process: StartService,
                                            tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    port = free_port()
    # the service forks a worker that ignores SIGTERM, as a stuck worker would
    server = service_process("forking", _python(f"""
        import signal, socket, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        s = socket.socket(); s.bind(("127.0.0.1", {port})); s.listen()
        time.sleep(300)
    """), ready_tcp=("127.0.0.1", port), ready_check=pid_file.exists, timeout=20)
    parent_pid = server.pid
    child_pid = int(pid_file.read_text())
    assert parent_pid is not None and _alive(parent_pid) and _alive(child_pid)
    assert os.getpgid(child_pid) == parent_pid  # same group: the service leads it

    server.stop(grace=2)
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(parent_pid)
    assert not _alive(child_pid), "the forked child survived stop()"


def test_wait_for_returns_the_truthy_value(wait_for: Callable[..., Any]) -> None:
    calls: list[int] = []

    def third_time_lucky() -> list[int] | None:
        calls.append(1)
        return [len(calls)] if len(calls) >= 3 else None

    assert wait_for(third_time_lucky, timeout=5, interval=0.01) == [3]


def test_wait_for_fails_with_the_last_value(wait_for: Callable[..., Any]) -> None:
    polls: list[int] = []

    def never_caught_up() -> list[int]:
        polls.append(1)
        return []  # e.g. the consumer's records: still none

    with pytest.raises(pytest.fail.Exception) as failure:
        wait_for(never_caught_up, timeout=0.3, interval=0.05)
    assert "condition not met within 0.3s (last value: [])" in str(failure.value)
    assert len(polls) >= 3  # it polled, then gave up

    with pytest.raises(pytest.fail.Exception, match=r"last value: 0\)"):
        wait_for(lambda: 0, timeout=0.2, interval=0.05)
