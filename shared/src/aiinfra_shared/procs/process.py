"""Run a server process for the duration of a test session and clean up after it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from aiinfra_shared.procs.ports import http_ready, tcp_ready, wait_until


class ServiceStartError(RuntimeError):
    """The service did not become ready; the message ends with the tail of its log."""


class ServiceProcess:
    """A command started in its own process group, with its output kept in a log file.

    Readiness is a TCP port, an HTTP URL, or any callable. When the service fails to come up,
    the error includes the last lines of its log so the cause is visible in the test report.
    `stop()` terminates the whole process group (servers that fork workers included).
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready_tcp: tuple[str, int] | None = None,
        ready_http: str | None = None,
        ready_check: Callable[[], bool] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = Path(log_path)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.ready_tcp = ready_tcp
        self.ready_http = ready_http
        self.ready_check = ready_check
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` lines the service wrote (stdout and stderr together)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "<no log>"
        return "\n".join(text.splitlines()[-lines:])

    def _is_ready(self) -> bool:
        if self.ready_tcp and not tcp_ready(*self.ready_tcp):
            return False
        if self.ready_http and not http_ready(self.ready_http):
            return False
        return not (self.ready_check and not self.ready_check())

    def start(self) -> ServiceProcess:
        """Start the command and block until it is ready or the timeout passes."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env} if self.env is not None else None
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.cwd,
                start_new_session=True,  # own process group, so stop() reaches children
            )
        ok = wait_until(self._is_ready, self.timeout, interval=0.2, alive=self.is_running)
        if not ok:
            code = self._proc.poll()
            self.stop()
            state = f"exited with code {code}" if code is not None else "timed out"
            raise ServiceStartError(
                f"{self.name} did not become ready ({state} after {self.timeout:.0f}s; "
                f"command: {' '.join(self.command)}); log tail:\n{self.log_tail()}"
            )
        return self

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group, if any
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        self._proc = None

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
