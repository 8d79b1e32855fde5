"""HAProxy as the data plane: its process, its runtime (admin) API and its metrics.

The runtime API is a line protocol on the `stats socket`: one command per connection, the
answer is everything until the server closes. Weights set there take effect for the next
request, with no reload; that is how a rollout moves traffic.
"""

from __future__ import annotations

import csv
import io
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from aiinfra_shared.procs import ServiceProcess, require_binary

from meshobs.errors import SpecError, UnavailableError
from meshobs.render.haproxy import LocalTopology, backend_name


@dataclass(frozen=True)
class HAProxyAdmin:
    """Client of HAProxy's runtime API at host:port."""

    host: str
    port: int
    timeout: float = 3.0

    def command(self, line: str, payload: str | None = None) -> str:
        """Send one command (optionally with a `<<` multi-line payload) and return the answer."""
        # BEGIN SOLUTION
        text = f"{line} <<\n{payload.rstrip()}\n\n" if payload is not None else f"{line}\n"
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                sock.sendall(text.encode())
                chunks = []
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
        except OSError as exc:
            raise UnavailableError(f"HAProxy admin socket {self.host}:{self.port} unreachable "
                              f"({exc.strerror or exc})") from exc
        return b"".join(chunks).decode(errors="replace")
        # END SOLUTION

    def set_weight(self, backend: str, server: str, weight: int) -> None:
        answer = self.command(f"set weight {backend}/{server} {int(weight)}").strip()
        if answer:  # success is silent; anything else is HAProxy explaining a refusal
            raise UnavailableError(f"HAProxy refused `set weight {backend}/{server}`: {answer}")

    def get_weight(self, backend: str, server: str) -> int:
        answer = self.command(f"get weight {backend}/{server}").strip()
        try:
            return int(answer.split()[0])
        except (IndexError, ValueError) as exc:
            raise UnavailableError(f"HAProxy: unexpected answer to get weight: {answer!r}") from exc

    def stats(self) -> list[dict[str, str]]:
        """`show stat` as rows (pxname, svname, status, weight, hrsp_5xx...)."""
        text = self.command("show stat").lstrip("# ")
        return list(csv.DictReader(io.StringIO(text)))

    def server_status(self, backend: str, server: str) -> str:
        for row in self.stats():
            if row.get("pxname") == backend and row.get("svname") == server:
                return row.get("status", "")
        raise UnavailableError(f"HAProxy has no server {backend}/{server}")

    def update_certificate(self, path: Path, bundle_pem: str) -> None:
        """Replace a loaded certificate in memory (`set ssl cert` + `commit ssl cert`)."""
        answer = self.command(f"set ssl cert {path}", bundle_pem)
        if "Transaction created" not in answer and "Transaction updated" not in answer:
            raise UnavailableError(f"HAProxy refused the certificate {path}: {answer.strip()}")
        answer = self.command(f"commit ssl cert {path}")
        if "Success" not in answer:
            raise UnavailableError(f"HAProxy could not commit the certificate {path}: "
                              f"{answer.strip()}")

    def certificate_serial(self, path: Path) -> str:
        for line in self.command(f"show ssl cert {path}").splitlines():
            if line.startswith("Serial:"):
                return line.split(":", 1)[1].strip().lower()
        raise UnavailableError(f"HAProxy does not know the certificate {path}")


class WeightRouter:
    """Moves a service's traffic between versions: every caller's backend at once."""

    def __init__(self, admin: HAProxyAdmin, service: str, callers: list[str]) -> None:
        self.admin = admin
        self.service = service
        self.backends = [backend_name(service, caller) for caller in sorted(callers)]
        if not self.backends:
            raise SpecError(f"no caller routes to {service!r} through the data plane "
                            "(it has no `callers` in mesh.yaml)")

    @classmethod
    def for_topology(cls, admin: HAProxyAdmin, topology: LocalTopology,
                     service: str) -> WeightRouter:
        return cls(admin, service, [c for (c, t) in topology.listeners if t == service])

    def set_weights(self, weights: dict[str, int]) -> None:
        for backend in self.backends:
            for version, weight in weights.items():
                self.admin.set_weight(backend, version, weight)

    def weights(self, versions: list[str]) -> dict[str, int]:
        return {v: self.admin.get_weight(self.backends[0], v) for v in versions}


def check_config(path: Path) -> None:
    """`haproxy -c`: fail with HAProxy's own message if the rendered config is invalid."""
    binary = require_binary("haproxy", "apt-get install haproxy (make setup)")
    result = subprocess.run([binary, "-c", "-q", "-f", str(path)], capture_output=True,
                            text=True, check=False, timeout=30)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise UnavailableError(f"haproxy -c rejected {path}: {' | '.join(detail[-3:])}")


def start_haproxy(config_path: Path, topology: LocalTopology, log_path: Path,
                  timeout: float = 20.0) -> ServiceProcess:
    """Start HAProxy in the foreground (`-db`), ready when the exporter answers."""
    binary = require_binary("haproxy", "apt-get install haproxy (make setup)")
    process = ServiceProcess(
        "haproxy", [binary, "-db", "-f", str(config_path)], log_path,
        ready_http=f"http://127.0.0.1:{topology.metrics_port}/metrics", timeout=timeout)
    return process.start()
