"""Failover and failback: detect, fence, promote, switch the pointer; rejoin with pg_rewind.

Order is what prevents split brain: the old primary is fenced (stopped if it still runs,
and a `standby.signal` left in its data dir so a restart comes back read-only) BEFORE the
standby is promoted, and the service pointer moves only after the promotion succeeded.
In sync mode the new primary has no standby yet, so synchronous_standby_names is cleared
(Patroni's non-strict synchronous mode) or every commit would wait forever.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiinfra_shared.io import atomic_write_json

from drkit.adapters import pgtools
from drkit.adapters import postgres as pg
from drkit.adapters.nodes import Node
from drkit.adapters.route53 import ServiceRecord
from drkit.errors import ConflictError, DrkitError, UnavailableError

log = logging.getLogger(__name__)


@dataclass
class Detection:
    failed_at: datetime
    seconds: float
    probes: int


def detect_failure(dsn: str, *, interval: float = 0.2, failures: int = 3,
                   timeout: float = 60.0) -> Detection:
    """Probe until `failures` consecutive probes fail; the time to decide is the detection."""
    start = time.monotonic()
    consecutive = probes = 0
    # BEGIN SOLUTION: count consecutive failed probes; reset on success; bounded by timeout
    while time.monotonic() - start < timeout:
        probes += 1
        reachable, _ = pg.probe(dsn, timeout_s=1.0)
        consecutive = 0 if reachable else consecutive + 1
        if consecutive >= failures:
            return Detection(datetime.now(UTC), time.monotonic() - start, probes)
        time.sleep(interval)
    # END SOLUTION
    raise ConflictError(f"primary still healthy after {timeout:.0f} s: no failover needed")


@dataclass
class Pointer:
    """Where clients find the primary: a config file and (optionally) a Route53 record."""

    file: Path
    record: ServiceRecord | None = None

    def switch(self, endpoint: pg.Endpoint, reason: str) -> list[str]:
        """Switch both; the file first (local, cannot fail over the network). A DNS failure
        after a promotion is reported, not raised: the promotion has already happened."""
        atomic_write_json(self.file, {"primary": {"host": endpoint.host, "port": endpoint.port},
                                      "switched_at": datetime.now(UTC).isoformat(),
                                      "reason": reason})
        if self.record is None:
            return []
        try:
            self.record.point_to(endpoint.host, endpoint.port)
        except UnavailableError as exc:
            return [f"pointer file switched, DNS record NOT updated: {exc}"]
        return []

    def read(self) -> pg.Endpoint | None:
        try:
            data = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return None
        return pg.Endpoint(data["primary"]["host"], int(data["primary"]["port"]))


def fence(node: Node) -> list[str]:
    """Make sure the old primary cannot accept writes: stop it, mark it a standby."""
    actions = []
    # BEGIN SOLUTION: stop it if running (refuse if reachable without data dir); standby.signal
    if node.data_dir is None:
        if pg.probe(node.endpoint.dsn)[0]:
            raise ConflictError(f"{node.name} still answers and cannot be fenced "
                                "(no data dir): refusing to promote (split brain)")
        actions.append("unreachable; no data dir to fence")
        return actions
    if node.is_running():
        node.crash()
        actions.append("stopped (pg_ctl -m immediate)")
    (node.data_dir / "standby.signal").touch()
    actions.append("standby.signal written")
    # END SOLUTION
    return actions


@dataclass
class FailoverResult:
    detection_s: float
    fence_actions: list[str]
    promote_s: float
    total_s: float
    new_primary: str
    timeline: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def failover(old: Node, new: Node, pointer: Pointer, *, mode: str = "sync",
             detect: bool = True, detect_timeout: float = 60.0) -> FailoverResult:
    """Promote `new` after `old` failed; returns the timings of each phase."""
    start = time.monotonic()
    detection = (detect_failure(old.endpoint.dsn, timeout=detect_timeout) if detect
                 else Detection(datetime.now(UTC), 0.0, 0))
    reachable, in_recovery = pg.probe(new.endpoint.dsn)
    if not reachable:
        raise UnavailableError(f"standby {new.name} is not reachable: nothing to promote")
    if not in_recovery:
        raise ConflictError(f"{new.name} is not a standby (already primary?)")
    actions = fence(old)
    promote_start = time.monotonic()
    # BEGIN SOLUTION: pg_promote(wait); sync mode: clear synchronous_standby_names; switch
    if not pg.promote(new.endpoint.dsn):
        raise DrkitError(f"pg_promote on {new.name} did not finish in time")
    notes = []
    if mode == "sync":
        with pg.connect(new.endpoint.dsn) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = ''")
            conn.execute("SELECT pg_reload_conf()")
        notes.append("sync mode: no standby left, commits are async until failback")
    promote_s = time.monotonic() - promote_start
    notes += pointer.switch(new.endpoint, f"failover from {old.name}")
    # END SOLUTION
    walfile = str(pg.scalar(new.endpoint.dsn, "SELECT pg_walfile_name(pg_current_wal_lsn())"))
    timeline = int(walfile[:8], 16)
    return FailoverResult(detection.seconds, actions, promote_s, time.monotonic() - start,
                          new.name, timeline, notes)


def failback(old: Node, new_primary: Node, *, mode: str = "sync", timeout: float = 120.0,
             wait_streaming_s: float = 60.0) -> dict[str, object]:
    """Rewind the old primary onto the new timeline and start it as a standby."""
    if old.data_dir is None:
        raise ConflictError(f"{old.name}: no data dir, cannot pg_rewind")
    if old.is_running():
        raise ConflictError(f"{old.name} is running: fence it first")
    if not re.fullmatch(r"[a-z0-9_]{1,63}", old.name):
        raise ConflictError(f"{old.name!r} cannot name a replication slot (use a-z, 0-9, _)")
    start = time.monotonic()
    # BEGIN SOLUTION: drop standby.signal, pg_rewind -R, start, wait until it streams
    (old.data_dir / "standby.signal").unlink(missing_ok=True)
    # pg_rewind reads the source's timeline from its control file, which a promotion only
    # updates at the next checkpoint: without this it says "no rewind required" and the
    # old primary then cannot follow the new timeline.
    with pg.connect(new_primary.endpoint.dsn, statement_timeout_ms=int(timeout * 1000)) as conn:
        conn.execute("CHECKPOINT")
        # A slot on the new primary keeps the WAL the rejoined standby still needs.
        conn.execute("SELECT pg_create_physical_replication_slot(%s) WHERE NOT EXISTS "
                     "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
                     (old.name, old.name))
    source = (f"host={new_primary.endpoint.host} port={new_primary.endpoint.port} "
              f"user={new_primary.endpoint.user} dbname=postgres application_name={old.name}")
    pgtools.run([pgtools.tool("pg_rewind"), "--target-pgdata", str(old.data_dir),
                 "--source-server", source, "-R", "--no-sync"], "pg_rewind", timeout,
                server=True)
    rewind_s = time.monotonic() - start
    # pg_rewind copied the source's postgresql.auto.conf (with the source's own slot name).
    with (old.data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"\n# drkit failback\nprimary_slot_name = '{old.name}'\n")
    old.start()
    deadline = time.monotonic() + wait_streaming_s
    streaming = False
    while time.monotonic() < deadline:
        lag = pg.replication_lag_bytes(new_primary.endpoint.dsn)
        if old.name in lag:
            streaming = True
            break
        time.sleep(0.2)
    if not streaming:
        raise DrkitError(f"{old.name} did not start streaming within {wait_streaming_s:.0f} s")
    if mode == "sync":
        with pg.connect(new_primary.endpoint.dsn) as conn:
            conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{old.name}'")
            conn.execute("SELECT pg_reload_conf()")
    # END SOLUTION
    return {"rewind_s": round(rewind_s, 3), "total_s": round(time.monotonic() - start, 3),
            "standby": old.name, "mode": mode}
