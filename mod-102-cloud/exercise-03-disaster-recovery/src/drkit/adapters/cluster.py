"""Start a restored data dir as a PostgreSQL server on a free loopback port.

The server runs as the server user (see pgtools) in its own process group; the log goes
next to the data dir so a failed recovery can be explained from it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from aiinfra_shared.procs.process import ServiceProcess, ServiceStartError

from drkit.adapters import pgtools
from drkit.errors import DrkitError


@dataclass
class RestoredServer:
    data_dir: Path
    port: int
    process: ServiceProcess
    host: str = "127.0.0.1"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def stop(self) -> None:
        if self.process.is_running():
            subprocess.run(pgtools.as_server([pgtools.tool("pg_ctl"), "-D", str(self.data_dir),
                                              "-m", "fast", "-w", "-t", "30", "stop"]),
                           capture_output=True, check=False, timeout=60)
        self.process.stop()


def _ready(port: int) -> bool:
    result = subprocess.run([pgtools.tool("pg_isready"), "-h", "127.0.0.1", "-p", str(port),
                             "-U", "postgres", "-d", "postgres", "-t", "1"],
                            capture_output=True, check=False, timeout=10)
    return result.returncode == 0


def start_server(data_dir: Path, port: int, socket_dir: Path, log_path: Path,
                 timeout: float) -> RestoredServer:
    command = pgtools.as_server([pgtools.tool("postgres"), "-D", str(data_dir), "-p", str(port),
                                 "-c", "listen_addresses=127.0.0.1",
                                 "-c", f"unix_socket_directories={socket_dir}"])
    process = ServiceProcess("postgres-restored", command, log_path,
                             ready_check=lambda: _ready(port), timeout=timeout)
    try:
        process.start()
    except ServiceStartError as exc:
        fatal = [ln for ln in process.log_tail(80).splitlines() if "FATAL" in ln]
        detail = fatal[-1].split("FATAL:", 1)[-1].strip() if fatal else "see " + str(log_path)
        raise DrkitError(f"restored server did not start: {detail}") from exc
    return RestoredServer(data_dir, port, process)
