"""Base backups: pg_basebackup (plain, with manifest), pg_verifybackup, seal, upload, catalog.

Steps, each a reason a backup could be unusable if skipped:
1. `pg_basebackup -Fp -X stream` with a manifest: a consistent copy including its WAL;
2. `pg_verifybackup` checks every file against the manifest before anything is uploaded;
3. the tar is compressed and encrypted, uploaded with its SHA-256 (S3 verifies it);
4. a verification point: all user tables SHARE-locked (writers wait a moment), row counts
   and checksums taken, `pg_create_restore_point('drkit-<id>')`, locks released. A restore
   to that point must reproduce those numbers exactly;
5. the catalog is written last, so a failed backup leaves the catalog untouched.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from drkit.adapters import pgtools
from drkit.adapters import postgres as pg
from drkit.catalog import BackupEntry, StoredObject, TableCheck
from drkit.envelope import parse_recipients, seal
from drkit.errors import UnavailableError
from drkit.lsn import Lsn
from drkit.repository import Repository, backup_key

log = logging.getLogger(__name__)


def manifest_wal_range(manifest: dict[str, Any]) -> tuple[int, str, str]:
    """(timeline, start LSN, end LSN) from a backup_manifest's WAL-Ranges."""
    ranges = manifest.get("WAL-Ranges") or []
    if not ranges:
        raise ValueError("backup_manifest has no WAL-Ranges")
    last = ranges[-1]
    return int(last["Timeline"]), str(ranges[0]["Start-LSN"]), str(last["End-LSN"])


def tar_directory(root: Path) -> bytes:
    """An uncompressed tar of `root`'s contents (compression happens in `seal`)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(root.iterdir()):
            tar.add(path, arcname=path.name)
    return buffer.getvalue()


def directory_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def verification_point(dsn: str, name: str) -> tuple[str, datetime, list[TableCheck]]:
    """Lock, checksum and mark a restore point, in every non-template database."""
    # BEGIN SOLUTION: SHARE-lock each database's tables, checksum, restore point, commit
    endpoint = pg.Endpoint.from_dsn(dsn)
    checks: list[TableCheck] = []
    with ExitStack() as stack:
        for database in pg.databases(dsn):
            conn = stack.enter_context(pg.connect(endpoint.with_database(database).dsn,
                                                  autocommit=False))
            pg.lock_tables(conn)
            checks += [TableCheck(database=database, table=t, rows=r, checksum=c)
                       for t, r, c in pg.table_checks(conn)]
        lsn, at = pg.create_restore_point(dsn, name)
    # END SOLUTION
    return lsn, at, checks


def count_artifacts(dsn: str, table: str) -> int:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"artifact table {table!r}: use lower-case letters, digits and _")
    try:
        value = pg.scalar(dsn, f"SELECT count(*) FROM {table}")  # noqa: S608 (validated)
    except psycopg.Error:
        return 0
    return int(value or 0)


def take_backup(dsn: str, repository: Repository, recipients: list[str], *,
                timeout: float = 300.0, artifact_table: str = "model_versions",
                after_restore_point: Callable[[str], None] | None = None) -> BackupEntry:
    """Take, verify, seal and upload a base backup; append it to the catalog."""
    keys = parse_recipients(recipients)  # a bad key fails before any work
    endpoint = pg.Endpoint.from_dsn(dsn)
    if not pg.probe(dsn)[0]:
        raise UnavailableError(f"primary {endpoint.host}:{endpoint.port} is not reachable")
    catalog = repository.load_catalog()
    started = datetime.now(UTC)
    backup_id = started.strftime("%Y%m%dT%H%M%S%fZ")
    work = Path(tempfile.mkdtemp(prefix="drkit-backup-"))
    try:
        target = work / "base"
        pgtools.run([pgtools.tool("pg_basebackup"), *pgtools.conninfo_args(endpoint.host,
                     endpoint.port, endpoint.user), "-D", str(target), "-Fp", "-X", "stream",
                     "-c", "fast", "--no-sync", "--manifest-checksums=SHA256",
                     "-l", f"drkit {backup_id}"], "pg_basebackup", timeout)
        pgtools.run([pgtools.tool("pg_verifybackup"), str(target)], "pg_verifybackup", timeout)
        manifest = json.loads((target / "backup_manifest").read_text())
        timeline, start_lsn, stop_lsn = manifest_wal_range(manifest)
        data_size = directory_size(target)
        sealed = seal(tar_directory(target), keys)
        key = backup_key(backup_id)
        repository.store.put(key, sealed.data, sealed.sha256,
                             {"plain-size": str(sealed.plain_size)})
        point = f"drkit-{backup_id}"
        point_lsn, point_time, checks = verification_point(dsn, point)
        if after_restore_point:
            after_restore_point(point_lsn)
        entry = BackupEntry(
            backup_id=backup_id, started_at=started, finished_at=datetime.now(UTC),
            timeline=timeline, start_lsn=start_lsn, stop_lsn=stop_lsn, restore_point=point,
            restore_point_lsn=point_lsn, restore_point_time=point_time,
            wal_start=Lsn.parse(start_lsn).segment(timeline).name,
            wal_stop=Lsn.parse(point_lsn).segment(timeline).name,
            objects=[StoredObject(key=key, size=len(sealed.data), plain_size=sealed.plain_size,
                                  sha256=sealed.sha256)],
            recipients=[str(k) for k in keys], pg_version=pg.server_version(dsn),
            data_size=data_size, tables=checks,
            artifacts_referenced=count_artifacts(dsn, artifact_table))
        repository.save_catalog(catalog.with_backup(entry))
        log.info("backup %s: %d bytes stored", backup_id, entry.stored_size)
        return entry
    finally:
        shutil.rmtree(work, ignore_errors=True)
