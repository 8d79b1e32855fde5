"""Execute a restore plan: fetch, check, decrypt, extract, replay WAL to the target, verify.

Nothing is half-written: the data dir is assembled in a staging dir beside the target and
renamed into place only when complete; a restore that fails before the server is up
leaves no target dir behind. The restored server never archives (archive_mode=off: it must
not write a new timeline into the live archive) and is never synchronous (no standby
exists for it, so commits would wait forever).
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import socket
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyrage

from drkit.adapters import pgtools
from drkit.adapters import postgres as pg
from drkit.adapters.cluster import RestoredServer, start_server
from drkit.adapters.s3 import ObjectStore
from drkit.catalog import BackupEntry, Catalog
from drkit.envelope import sha256_hex, unseal
from drkit.errors import (
    ConfigurationError,
    ConflictError,
    DrkitError,
    IntegrityError,
    NotFoundError,
)
from drkit.repository import Repository, wal_key
from drkit.restore_plan import RestorePlan, RestoreTarget, plan_restore

log = logging.getLogger(__name__)


def port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def meta_dir(target_dir: Path) -> Path:
    """Beside the data dir: fetched WAL, the server log, its socket."""
    return target_dir.with_name(target_dir.name + ".drkit")


def find_conflicts(target_dir: Path, port: int) -> list[str]:
    conflicts = []
    if target_dir.exists() and (not target_dir.is_dir() or any(target_dir.iterdir())):
        conflicts.append(f"restore dir {target_dir} is not empty")
    if meta_dir(target_dir).exists():
        conflicts.append(f"{meta_dir(target_dir)} exists (an earlier restore?)")
    if port_taken(port):
        conflicts.append(f"port {port} is taken")
    return conflicts


def dry_run(repository: Repository, target: RestoreTarget, target_dir: Path, port: int,
            last_restore_seconds: float | None = None,
            backup_id: str | None = None) -> RestorePlan:
    """The plan and its conflicts; reads the bucket and the disk, writes nothing."""
    return plan_restore(repository.load_catalog(), repository.archive(), target,
                        conflicts=find_conflicts(target_dir, port),
                        last_restore_seconds=last_restore_seconds, backup_id=backup_id)


def recovery_settings(plan: RestorePlan, wal_dir: Path) -> dict[str, str]:
    """postgresql.auto.conf lines that make the restored copy replay to the target."""
    # BEGIN SOLUTION: restore_command from the WAL dir, the target, promote, no archive/sync
    settings = {"restore_command": f'cp "{wal_dir}/%f" "%p"',
                "recovery_target_action": "promote",
                "recovery_target_timeline": "latest",
                "archive_mode": "off",
                "synchronous_standby_names": "",
                "primary_conninfo": "",
                "primary_slot_name": ""}
    target = plan.target
    if target.kind == "backup":
        settings["recovery_target_name"] = plan.backup.restore_point
    elif target.kind == "name":
        settings["recovery_target_name"] = target.value
    elif target.kind == "lsn":
        settings["recovery_target_lsn"] = target.value
    elif target.kind == "time":
        assert target.time is not None
        settings["recovery_target_time"] = target.time.isoformat()
    return settings
    # END SOLUTION


def _append_conf(data_dir: Path, settings: dict[str, str]) -> None:
    lines = ["", "# drkit restore"]
    lines += [f"{key} = '{value.replace(chr(39), chr(39) * 2)}'" for key, value in settings.items()]
    with (data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write("\n".join(lines) + "\n")


def fetch_backup(repository: Repository, backup: BackupEntry,
                 identity: pyrage.x25519.Identity) -> bytes:
    obj = backup.objects[0]
    return unseal(repository.store.get(obj.key), obj.sha256, identity,
                  f"backup {backup.backup_id}")


def _extract(tar_bytes: bytes, data_dir: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r") as tar:
        tar.extractall(data_dir, filter="fully_trusted")  # noqa: S202 (checksummed, ours)


def _fetch_wal(repository: Repository, names: list[str], wal_dir: Path,
               identity: pyrage.x25519.Identity) -> None:
    for name in names:
        stored = repository.store.get(wal_key(name))
        expected = repository.store.head(wal_key(name)).sha256 or sha256_hex(stored)
        (wal_dir / name).write_bytes(unseal(stored, expected, identity, f"WAL {name}"))


@dataclass
class RestoreResult:
    plan: RestorePlan
    server: RestoredServer
    seconds: float
    fetch_seconds: float
    recovery_seconds: float
    verification: dict[str, Any] = field(default_factory=dict)
    skipped_backups: list[str] = field(default_factory=list)


def _older_backups(catalog: Catalog, backup: BackupEntry) -> list[BackupEntry]:
    return sorted((b for b in catalog.backups if b.finished_at < backup.finished_at),
                  key=lambda b: b.finished_at, reverse=True)


def restore(repository: Repository, target: RestoreTarget, target_dir: Path, port: int,
            identity: pyrage.x25519.Identity, *, timeout: float = 300.0,
            fallback: bool = True, backup_id: str | None = None) -> RestoreResult:
    """Restore and start the server; on a corrupt or missing backup object, fall back to
    the previous backup (when `fallback` and the target allows it)."""
    started = time.monotonic()
    catalog = repository.load_catalog()
    archive = repository.archive()
    conflicts = find_conflicts(target_dir, port)
    plan = plan_restore(catalog, archive, target, conflicts=conflicts, backup_id=backup_id)
    if plan.conflicts:
        raise ConflictError("; ".join(plan.conflicts))
    skipped: list[str] = []
    # BEGIN SOLUTION: fetch the backup; on IntegrityError/NotFound try older; refuse WAL gaps
    while True:
        if plan.missing:
            raise IntegrityError(f"WAL chain broken for backup {plan.backup.backup_id}: "
                                 f"{len(plan.missing)} segment(s) missing, first "
                                 f"{plan.missing[0]}")
        try:
            tar_bytes = fetch_backup(repository, plan.backup, identity)
            break
        except (IntegrityError, NotFoundError) as exc:
            older = _older_backups(catalog, plan.backup)
            if not fallback or not older or target.kind == "backup":
                raise
            log.warning("%s; falling back to backup %s", exc, older[0].backup_id)
            skipped.append(f"{plan.backup.backup_id}: {exc}")
            plan = plan_restore(catalog, archive, target, conflicts=conflicts,
                                backup_id=older[0].backup_id)
    # END SOLUTION
    meta = meta_dir(target_dir)
    staging = target_dir.with_name(f".{target_dir.name}.staging")
    created_target = not target_dir.exists()
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        (meta / "wal").mkdir(parents=True)
        _extract(tar_bytes, staging)
        _fetch_wal(repository, plan.history_files + plan.segments, meta / "wal", identity)
        fetch_seconds = time.monotonic() - started
        for leftover in ("standby.signal", "postmaster.pid", "postmaster.opts"):
            (staging / leftover).unlink(missing_ok=True)
        (staging / "recovery.signal").touch()
        _append_conf(staging, recovery_settings(plan, meta / "wal"))
        staging.chmod(0o700)
        pgtools.give_to_server(staging)
        pgtools.give_to_server(meta)
        if target_dir.exists():
            target_dir.rmdir()  # empty (checked above)
        staging.rename(target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(meta, ignore_errors=True)
        raise
    recovery_started = time.monotonic()
    try:
        server = start_server(target_dir, port, meta, meta / "postgres.log", timeout)
        _wait_promoted(server, timeout)
    except BaseException:
        if created_target:
            shutil.rmtree(target_dir, ignore_errors=True)
        else:
            for child in target_dir.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
        shutil.rmtree(meta, ignore_errors=True)
        raise
    now = time.monotonic()
    return RestoreResult(plan=plan, server=server, seconds=now - started,
                         fetch_seconds=fetch_seconds, recovery_seconds=now - recovery_started,
                         skipped_backups=skipped)


def _wait_promoted(server: RestoredServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.process.is_running():
            raise DrkitError("restored server stopped during recovery: "
                             + _last_fatal(server.process.log_tail(60)))
        reachable, in_recovery = pg.probe(server.dsn)
        if reachable and not in_recovery:
            return
        time.sleep(0.2)
    server.stop()
    raise DrkitError(f"recovery did not finish within {timeout:.0f} s")


def _last_fatal(log_text: str) -> str:
    fatal = [ln for ln in log_text.splitlines() if "FATAL" in ln]
    return fatal[-1].split("FATAL:", 1)[-1].strip() if fatal else "see the server log"


def verify(server: RestoredServer, backup: BackupEntry | None, artifacts: ObjectStore | None,
           artifact_table: str = "model_versions", timeout: float = 300.0) -> dict[str, Any]:
    """pg_amcheck, table checks against the catalog (when restored to the backup's own point)
    and every artifact the metadata references present with its hash."""
    report: dict[str, Any] = {"amcheck": "ok", "tables": [], "artifacts_checked": 0,
                              "artifacts_missing": [], "problems": []}
    problems: list[str] = report["problems"]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", artifact_table):
        raise ConfigurationError(f"artifact table {artifact_table!r}: use a-z, 0-9 and _")
    # BEGIN SOLUTION: pg_amcheck; compare TableChecks; hash each referenced artifact
    try:
        pgtools.run([pgtools.tool("pg_amcheck"), "-h", server.host, "-p", str(server.port),
                     "-U", "postgres", "--all", "--install-missing"], "pg_amcheck", timeout)
    except DrkitError as exc:
        report["amcheck"] = str(exc)
        problems.append(str(exc))
    databases = pg.databases(server.dsn)
    actual: dict[tuple[str, str], tuple[int, str]] = {}
    for database in databases:
        with pg.connect(server.url(database)) as conn:
            for table, rows, checksum in pg.table_checks(conn):
                actual[(database, table)] = (rows, checksum)
    if backup is not None:
        for check in backup.tables:
            got = actual.get((check.database, check.table))
            ok = got == (check.rows, check.checksum)
            report["tables"].append({"database": check.database, "table": check.table,
                                     "rows": check.rows, "ok": ok})
            if not ok:
                problems.append(f"{check.database}.{check.table}: expected "
                                          f"{check.rows} rows/{check.checksum}, got {got}")
    if artifacts is not None:
        for database in databases:
            if (database, f"public.{artifact_table}") not in actual:
                continue
            with pg.connect(server.url(database)) as conn:
                found = conn.execute(f"SELECT artifact_key, sha256 FROM {artifact_table}"  # noqa: S608
                                    ).fetchall()
            for key, digest in found:
                report["artifacts_checked"] += 1
                try:
                    ok = sha256_hex(artifacts.get(str(key))) == str(digest)
                except NotFoundError:
                    ok = False
                if not ok:
                    report["artifacts_missing"].append(str(key))
                    problems.append(f"artifact {key} missing or hash differs")
    # END SOLUTION
    report["ok"] = not report["problems"]
    return report
