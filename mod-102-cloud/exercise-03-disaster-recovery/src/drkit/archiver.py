"""WAL archiving without Python inside PostgreSQL.

PostgreSQL runs as `postgres`, which cannot execute this project's interpreter, so its
`archive_command` is plain shell that copies the segment into a spool dir (atomically:
copy to a dot-file, then rename), like pgBackRest's asynchronous mode. drkit's uploader
drains the spool: seal (zstd + age), upload with its checksum, then delete the local copy.
The streaming alternative (Barman's) is `pg_receivewal` on a replication slot writing into
the same kind of dir; finished segments are drained the same way, `.partial` ones are not.
"""

from __future__ import annotations

import logging
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from aiinfra_shared.procs.process import ServiceProcess

from drkit.adapters import pgtools
from drkit.envelope import parse_recipients, seal
from drkit.lsn import is_history_name, is_segment_name
from drkit.repository import Repository, wal_key

log = logging.getLogger(__name__)


def archive_command(spool: Path) -> str:
    """The archive_command for a spool dir: idempotent, atomic, no Python."""
    # BEGIN SOLUTION: already there and identical -> success; else copy to a dot-file and rename
    s = shlex.quote(str(spool))
    return (f"if [ -f {s}/%f ]; then cmp -s %p {s}/%f; "
            f"else cp %p {s}/.%f.tmp && mv {s}/.%f.tmp {s}/%f; fi")
    # END SOLUTION


@dataclass
class DrainResult:
    uploaded: list[str]
    bytes_stored: int


def drain(spool: Path, repository: Repository, recipients: list[str]) -> DrainResult:
    """Upload every finished WAL file in `spool` (oldest first), deleting each after upload."""
    keys = parse_recipients(recipients)
    uploaded: list[str] = []
    stored = 0
    # BEGIN SOLUTION: finished segments and .history only, oldest first; delete after upload
    names = sorted(p.name for p in spool.iterdir()
                   if is_segment_name(p.name) or is_history_name(p.name))
    for name in names:
        path = spool / name
        sealed = seal(path.read_bytes(), keys)
        repository.store.put(wal_key(name), sealed.data, sealed.sha256,
                             {"plain-size": str(sealed.plain_size)})
        path.unlink()
        uploaded.append(name)
        stored += len(sealed.data)
    # END SOLUTION
    if uploaded:
        log.info("archived %d WAL files (%s .. %s)", len(uploaded), uploaded[0], uploaded[-1])
    return DrainResult(uploaded, stored)


def wait_archived(spool: Path, repository: Repository, recipients: list[str], segment: str,
                  timeout: float = 30.0) -> bool:
    """Drain until `segment` is in the repository (after a pg_switch_wal)."""
    deadline = time.monotonic() + timeout
    key = wal_key(segment)
    while time.monotonic() < deadline:
        drain(spool, repository, recipients)
        if repository.store.exists(key):
            return True
        time.sleep(0.2)
    return False


def start_receivewal(directory: Path, host: str, port: int, slot: str,
                     log_path: Path) -> ServiceProcess:
    """pg_receivewal on a physical slot (created if absent), writing into `directory`."""
    pgtools.run([pgtools.tool("pg_receivewal"), *pgtools.conninfo_args(host, port),
                 "--slot", slot, "--create-slot", "--if-not-exists"],
                "pg_receivewal --create-slot", timeout=30)
    process = ServiceProcess(
        "pg_receivewal",
        [pgtools.tool("pg_receivewal"), *pgtools.conninfo_args(host, port), "-D",
         str(directory), "--slot", slot, "--no-loop", "--synchronous"],
        log_path, ready_check=lambda: any(directory.iterdir()), timeout=30)
    return process.start()
