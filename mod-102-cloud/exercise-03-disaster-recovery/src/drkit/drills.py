"""Run DR drills: a scenario's steps against a live stack, measuring detection, RTO, RPO.

The drill writes numbered marker rows and remembers which commits were acknowledged (and
when). After the incident and the recovery it reads back which ids survived: an
acknowledged id that is gone is data loss, and its age is the RPO. RTO runs from the
incident to the first successful write on the recovered service (a restore counts once
the restored server is up and verified).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pyrage
from aiinfra_shared.procs.ports import free_port

from drkit.adapters import postgres as pg
from drkit.adapters.cluster import RestoredServer
from drkit.adapters.nodes import Node
from drkit.adapters.s3 import ObjectStore
from drkit.archiver import wait_archived
from drkit.backup import take_backup
from drkit.errors import ConfigurationError, DrkitError
from drkit.failover import Pointer, failback, failover
from drkit.report import DrillResult, StepRecord, rpo_seconds
from drkit.repository import Repository, wal_key
from drkit.restore import restore, verify
from drkit.restore_plan import RestoreTarget, plan_restore
from drkit.scenarios import Scenario

log = logging.getLogger(__name__)

MARKERS = "drkit_markers"


@dataclass
class Stack:
    """What a drill acts on; the demo and the tests build it from real servers."""

    primary: Node
    standby: Node | None
    repository: Repository
    spool: Path
    recipients: list[str]
    identity: pyrage.x25519.Identity
    pointer: Pointer
    restore_root: Path  # a dir the server user can write: restores go below it
    mode: str = "sync"
    dr_repository: Repository | None = None
    artifacts: ObjectStore | None = None
    region_outage: Callable[[], None] | None = None
    replicate_backups: Callable[[], None] | None = None


class MarkerWriter:
    """Writes numbered markers through a libpq multi-host DSN (read-write target), so it
    follows the primary across a failover; records every acknowledged commit."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.acknowledged: list[tuple[int, datetime]] = []
        self.served_by: list[int] = []  # server port that acknowledged each write
        self.next_id = 1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def ensure_table(self) -> None:
        with pg.connect(self.dsn) as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {MARKERS} (id bigint PRIMARY KEY, "
                         "written_at timestamptz NOT NULL DEFAULT clock_timestamp())")
            row = conn.execute(f"SELECT coalesce(max(id), 0) FROM {MARKERS}").fetchone()  # noqa: S608
            self.next_id = max(self.next_id, int(row[0]) + 1 if row else 1)

    def write(self, rows: int) -> int:
        with pg.connect(self.dsn, statement_timeout_ms=5000) as conn:
            for _ in range(rows):
                row = conn.execute(f"INSERT INTO {MARKERS} (id) VALUES (%s) "  # noqa: S608
                                   "RETURNING inet_server_port()", (self.next_id,)).fetchone()
                self.acknowledged.append((self.next_id, datetime.now(UTC)))
                self.served_by.append(int(row[0]) if row else 0)
                self.next_id += 1
        return rows

    def _loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = pg.connect(self.dsn, timeout_s=1, statement_timeout_ms=3000)
                row = conn.execute(f"INSERT INTO {MARKERS} (id) VALUES (%s) "  # noqa: S608
                                   "RETURNING inet_server_port()", (self.next_id,)).fetchone()
                now = datetime.now(UTC)
                self.acknowledged.append((self.next_id, now))
                self.served_by.append(int(row[0]) if row else 0)
                self.next_id += 1
                time.sleep(0.01)
            except (psycopg.Error, DrkitError):
                if conn is not None:
                    conn.close()
                conn = None
                self.next_id += 1  # the id may or may not have committed: never reuse it
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="marker-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def first_ack_after(self, when: datetime, port: int) -> datetime | None:
        """When the server on `port` first acknowledged a write after `when`."""
        pairs = zip(self.acknowledged, self.served_by, strict=False)
        return next((at for (_, at), by in pairs if at > when and by == port), None)


@dataclass
class DrillState:
    stack: Stack
    writer: MarkerWriter
    result: DrillResult
    incident_at: datetime | None = None
    incident_mono: float | None = None
    restored: list[RestoredServer] = field(default_factory=list)
    survivor_dsn: str | None = None  # where to read markers back from


def _service_dsn(stack: Stack) -> str:
    nodes = [stack.primary.endpoint] + ([stack.standby.endpoint] if stack.standby else [])
    return pg.multi_host_dsn(nodes)


def _active_repository(state: DrillState) -> Repository:
    outage = any(s.action == "region_outage" for s in state.result.steps)
    if outage:
        if state.stack.dr_repository is None:
            raise ConfigurationError("region_outage needs a DR repository")
        return state.stack.dr_repository
    return state.stack.repository


def _incident(state: DrillState) -> None:
    state.incident_at = datetime.now(UTC)
    state.incident_mono = time.monotonic()


def _since_incident(state: DrillState) -> float:
    assert state.incident_mono is not None
    return time.monotonic() - state.incident_mono


# --------------------------------------------------------------------------- steps


def step_write(state: DrillState, args: dict[str, Any]) -> str:
    rows = int(args.get("rows", 20))
    state.writer.write(rows)
    return f"{rows} rows acknowledged"


def step_backup(state: DrillState, args: dict[str, Any]) -> str:
    stack = state.stack
    entry = take_backup(stack.primary.endpoint.dsn, stack.repository, stack.recipients)
    if not wait_archived(stack.spool, stack.repository, stack.recipients, entry.wal_stop):
        raise DrkitError(f"WAL {entry.wal_stop} was not archived within 30 s")
    if stack.replicate_backups:
        stack.replicate_backups()
    return f"backup {entry.backup_id} ({entry.stored_size} bytes stored)"


def step_restore_point(state: DrillState, args: dict[str, Any]) -> str:
    name = str(args.get("name", "drill-point"))
    lsn, at = pg.create_restore_point(state.stack.primary.endpoint.dsn, name)
    repo = state.stack.repository
    repo.save_catalog(repo.load_catalog().with_restore_point(name, lsn, at))
    return f"{name} at {lsn}"


def step_kill_primary(state: DrillState, args: dict[str, Any]) -> str:
    if args.get("concurrent_writer", True):
        state.writer.start()
        time.sleep(float(args.get("write_for_s", 0.5)))
    _incident(state)
    state.stack.primary.crash()
    return f"{state.stack.primary.name} stopped -m immediate"


def step_failover(state: DrillState, args: dict[str, Any]) -> str:
    stack = state.stack
    if stack.standby is None:
        raise ConfigurationError("failover needs a standby")
    result = failover(stack.primary, stack.standby, stack.pointer, mode=stack.mode,
                      detect_timeout=float(args.get("detect_timeout_s", 30)))
    state.result.detection_s = result.detection_s
    stack.primary, stack.standby = stack.standby, stack.primary
    # RTO: first write acknowledged by the (new) primary after the incident.
    assert state.incident_at is not None
    deadline = time.monotonic() + 30
    first = None
    if state.writer.running:
        while first is None and time.monotonic() < deadline:
            first = state.writer.first_ack_after(state.incident_at, stack.primary.endpoint.port)
            time.sleep(0.02)
        time.sleep(float(args.get("write_after_s", 0.3)))
        state.writer.stop()
    else:
        state.writer.write(1)
        first = state.writer.acknowledged[-1][1]
    if first is None:
        raise DrkitError("no write succeeded on the new primary within 30 s")
    state.result.rto_s = (first - state.incident_at).total_seconds()
    state.survivor_dsn = stack.primary.endpoint.dsn
    state.result.notes += result.notes
    return (f"promoted {result.new_primary} (timeline {result.timeline}); "
            f"fence: {', '.join(result.fence_actions)}")


def step_failback(state: DrillState, args: dict[str, Any]) -> str:
    stack = state.stack
    if stack.standby is None:
        raise ConfigurationError("failback needs the old primary")
    info = failback(stack.standby, stack.primary, mode=stack.mode)
    return f"{info['standby']} rewound in {info['rewind_s']} s and streaming"


def step_drop_table(state: DrillState, args: dict[str, Any]) -> str:
    dsn = state.stack.primary.endpoint.dsn
    time.sleep(0.05)  # the incident strictly after the last acknowledged commit
    _incident(state)
    time.sleep(0.05)
    with pg.connect(dsn) as conn:
        conn.execute(f"DROP TABLE {MARKERS}")
    segment = pg.switch_wal(dsn)
    wait_archived(state.stack.spool, state.stack.repository, state.stack.recipients, segment)
    if state.stack.replicate_backups:
        state.stack.replicate_backups()
    state.result.detection_s = 0.0  # the drill declares it; real detection is a human
    return f"DROP TABLE {MARKERS}"


def _restore_and_verify(state: DrillState, target: RestoreTarget, label: str) -> str:
    stack = state.stack
    repository = _active_repository(state)
    base = stack.restore_root / f"{label}-{len(state.restored)}"
    result = restore(repository, target, base, free_port(), stack.identity)
    state.restored.append(result.server)
    check = verify(result.server, result.plan.backup if target.kind == "backup" else None,
                   stack.artifacts)
    if not check["ok"]:
        raise DrkitError("verification failed: " + "; ".join(check["problems"][:3]))
    if state.incident_mono is not None:
        state.result.rto_s = _since_incident(state)
    state.survivor_dsn = result.server.dsn
    state.result.notes += [f"skipped {s}" for s in result.skipped_backups]
    return (f"backup {result.plan.backup.backup_id}, {len(result.plan.segments)} WAL "
            f"segments, recovery {result.recovery_seconds:.2f} s, amcheck {check['amcheck']}")


def step_pitr(state: DrillState, args: dict[str, Any]) -> str:
    assert state.incident_at is not None, "pitr needs an incident first"
    target = RestoreTarget("time", state.incident_at.isoformat(), state.incident_at)
    return _restore_and_verify(state, target, "pitr")


def step_restore(state: DrillState, args: dict[str, Any]) -> str:
    kind = str(args.get("target", "latest"))
    if kind not in ("latest", "backup"):
        raise ConfigurationError(f"restore target {kind!r}: use latest or backup")
    stack = state.stack
    outage = any(s.action == "region_outage" for s in state.result.steps)
    if args.get("flush", True) and not outage and pg.probe(stack.primary.endpoint.dsn)[0]:
        # What an operator does first while the primary lives: archive the current segment.
        segment = pg.switch_wal(stack.primary.endpoint.dsn)
        wait_archived(stack.spool, stack.repository, stack.recipients, segment)
        state.result.notes.append(f"flushed WAL up to {segment}")
    return _restore_and_verify(state, RestoreTarget(kind), "restore")  # type: ignore[arg-type]


def step_corrupt_backup(state: DrillState, args: dict[str, Any]) -> str:
    repository = _active_repository(state)
    catalog = repository.load_catalog()
    if len(catalog.backups) < 2:
        raise ConfigurationError("corrupt_backup needs two backups (the previous one is used)")
    newest = max(catalog.backups, key=lambda b: b.finished_at)
    key = newest.objects[0].key
    _incident(state)
    if args.get("mode", "flip") == "delete":
        for version in repository.store.versions(key):
            repository.store.delete(key, version.version_id)
        return f"deleted {key}"
    data = bytearray(repository.store.get(key))
    data[len(data) // 2] ^= 0xFF
    repository.store.put(key, bytes(data))
    return f"flipped one byte in {key}"


def step_delete_wal(state: DrillState, args: dict[str, Any]) -> str:
    stack = state.stack
    state.writer.write(5)
    pg.switch_wal(stack.primary.endpoint.dsn)
    state.writer.write(5)
    segment = pg.switch_wal(stack.primary.endpoint.dsn)
    wait_archived(stack.spool, stack.repository, stack.recipients, segment)
    newest = max(stack.repository.load_catalog().backups, key=lambda b: b.finished_at)
    after = [n for n in stack.repository.wal_names() if n > newest.wal_stop
             and not n.endswith(".history")]
    if len(after) < 2:
        raise DrkitError(f"not enough WAL after the newest backup to delete one ({segment})")
    victim = after[0]
    _incident(state)
    stack.repository.store.delete(wal_key(victim))
    return f"deleted {victim}"


def step_check_chain(state: DrillState, args: dict[str, Any]) -> str:
    repository = _active_repository(state)
    plan = plan_restore(repository.load_catalog(), repository.archive(), RestoreTarget("latest"))
    if state.incident_mono is not None:
        state.result.detection_s = _since_incident(state)
    expect_gap = bool(args.get("expect_gap", False))
    if plan.missing:
        state.result.notes.append(f"WAL gap: {', '.join(plan.missing)}")
    if bool(plan.missing) != expect_gap:
        raise DrkitError(f"chain check: gap={bool(plan.missing)}, expected {expect_gap}")
    return f"missing {plan.missing}" if plan.missing else "chain complete"


def step_region_outage(state: DrillState, args: dict[str, Any]) -> str:
    if state.stack.region_outage is None:
        raise ConfigurationError("region_outage needs a way to stop the primary region")
    _incident(state)
    state.stack.region_outage()
    return "primary region object store stopped"


def step_verify(state: DrillState, args: dict[str, Any]) -> str:
    dsn = state.survivor_dsn or state.stack.primary.endpoint.dsn
    with pg.connect(dsn) as conn:
        rows = conn.execute(f"SELECT id FROM {MARKERS}").fetchall()  # noqa: S608
    present = {int(r[0]) for r in rows}
    incident = state.incident_at or datetime.now(UTC)
    rpo, lost = rpo_seconds(incident, state.writer.acknowledged, present)
    promised = sum(1 for _, at in state.writer.acknowledged if at <= incident)
    state.result.rpo_s, state.result.rows_lost = rpo, lost
    state.result.rows_acknowledged = promised
    return f"{len(present)} markers present, {lost} of {promised} acknowledged lost"


STEP_FUNCTIONS: dict[str, Callable[[DrillState, dict[str, Any]], str]] = {
    "write": step_write, "backup": step_backup, "restore_point": step_restore_point,
    "kill_primary": step_kill_primary, "failover": step_failover, "failback": step_failback,
    "drop_table": step_drop_table, "pitr": step_pitr, "restore": step_restore,
    "corrupt_backup": step_corrupt_backup, "delete_wal": step_delete_wal,
    "check_chain": step_check_chain, "region_outage": step_region_outage,
    "verify": step_verify,
}


def run_drill(stack: Stack, scenario: Scenario, keep_restored: bool = False) -> DrillResult:
    """Run every step in order; the first failing step ends the drill with its error."""
    result = DrillResult(scenario.name, datetime.now(UTC), scenario.targets.rto_s,
                         scenario.targets.rpo_s)
    writer = MarkerWriter(_service_dsn(stack))
    writer.ensure_table()
    state = DrillState(stack, writer, result)
    try:
        for step in scenario.steps:
            started = time.monotonic()
            try:
                detail = STEP_FUNCTIONS[step.action](state, step.args)
            except DrkitError as exc:
                result.steps.append(StepRecord(step.action, time.monotonic() - started,
                                               "error"))
                result.error = f"{step.action}: {exc}"
                break
            result.steps.append(StepRecord(step.action, time.monotonic() - started, detail))
    finally:
        writer.stop()
        if not keep_restored:
            for server in state.restored:
                server.stop()
                shutil.rmtree(server.data_dir, ignore_errors=True)
                shutil.rmtree(server.data_dir.with_name(server.data_dir.name + ".drkit"),
                              ignore_errors=True)
    return result
