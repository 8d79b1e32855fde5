"""Database nodes drkit can stop, start and inspect: the control plane of a failover.

`PgCtlNode` drives a local data dir with `pg_ctl` (what `drkit failover --fence-data-dir`
uses). `ManagedNode` wraps a server started by `aiinfra_shared.procs` (the demo stack and
the tests), whose process handle must do the starting so its teardown still owns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from drkit.adapters import pgtools
from drkit.adapters import postgres as pg


class Node(Protocol):
    name: str
    endpoint: pg.Endpoint
    data_dir: Path | None

    def crash(self) -> None: ...

    def start(self) -> None: ...

    def is_running(self) -> bool: ...


@dataclass
class PgCtlNode:
    name: str
    endpoint: pg.Endpoint
    data_dir: Path | None

    def crash(self) -> None:
        if self.data_dir is not None and self.is_running():
            pgtools.run([pgtools.tool("pg_ctl"), "-D", str(self.data_dir), "-m", "immediate",
                         "-w", "-t", "30", "stop"], "pg_ctl stop -m immediate", 60, server=True)

    def start(self) -> None:
        assert self.data_dir is not None
        pgtools.run([pgtools.tool("pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60",
                     "-l", str(self.data_dir.parent / f"{self.name}.log"), "-o",
                     f"-p {self.endpoint.port} -c listen_addresses={self.endpoint.host} "
                     f"-c cluster_name={self.name}", "start"], "pg_ctl start", 90, server=True)

    def is_running(self) -> bool:
        if self.data_dir is None:
            return pg.probe(self.endpoint.dsn)[0]
        return (self.data_dir / "postmaster.pid").exists() and pg.probe(self.endpoint.dsn)[0]


class ManagedNode:
    """A node backed by an `aiinfra_shared.procs.postgres.Postgres` handle."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.name = str(handle.name)
        self.endpoint = pg.Endpoint(handle.host, int(handle.port), handle.user)
        self.data_dir: Path | None = Path(handle.data_dir)

    def crash(self) -> None:
        self.handle.shutdown("immediate")

    def start(self) -> None:
        self.handle.start()

    def is_running(self) -> bool:
        return bool(self.handle.running)
