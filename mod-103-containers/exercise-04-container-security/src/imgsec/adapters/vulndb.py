"""The offline vulnerability database: OSV records in SQLite, indexed by (ecosystem, name).

Imports are all-or-nothing: every record is parsed and validated first, then the new database
is written beside the old one and renamed over it, so a malformed record (its file and id are
named) leaves the database exactly as it was. `meta` keeps the sources and build time; a
database older than `stale_after_days` makes `scan` warn.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imgsec.catalog.catalogers import normalize_pypi
from imgsec.errors import InvalidInputError, NotFoundError
from imgsec.osv import OSVRecordError, validate_record

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, modified TEXT, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS affected (record_id TEXT NOT NULL, ecosystem TEXT NOT NULL,
                                     base TEXT NOT NULL, name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS affected_by_package ON affected (base, name);
CREATE INDEX IF NOT EXISTS affected_by_record ON affected (record_id);
"""


@dataclass(frozen=True)
class DbInfo:
    path: Path
    records: int
    built_at: str
    sources: list[str]

    @property
    def version(self) -> str:
        """Changes whenever the content may have: part of the scan-repo cache key."""
        return hashlib.sha256(f"{self.built_at}|{self.records}".encode()).hexdigest()[:16]

    def age_days(self, now: datetime | None = None) -> float:
        built = datetime.fromisoformat(self.built_at)
        return ((now or datetime.now(UTC)) - built).total_seconds() / 86400


def lookup_name(ecosystem: str, name: str) -> str:
    return normalize_pypi(name) if ecosystem.split(":")[0] == "PyPI" else name


# ------------------------------------------------------------------ reading sources


def _records_from_bytes(data: bytes, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        payload = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{where}: not valid JSON ({exc})") from exc
    items = payload if isinstance(payload, list) else [payload]
    for position, item in enumerate(items):
        label = item.get("id") if isinstance(item, dict) else None
        try:
            yield where, validate_record(item)
        except OSVRecordError as exc:
            name = f"record {label}" if label else f"record #{position}"
            raise InvalidInputError(f"{where}: {name}: {exc}") from exc


def read_osv_sources(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """All records of JSON files, directories of them and zips (as osv.dev exports them)."""
    records: list[dict[str, Any]] = []
    for path in paths:
        if not path.exists():
            raise NotFoundError(f"{path}: no such file or directory")
        if path.is_dir():
            records += read_osv_sources(sorted(path.rglob("*.json")))
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in sorted(archive.namelist()):
                    if member.endswith(".json"):
                        records += [r for _, r in _records_from_bytes(
                            archive.read(member), f"{path}:{member}")]
        else:
            records += [r for _, r in _records_from_bytes(path.read_bytes(), str(path))]
    return records


# ------------------------------------------------------------------ writing


def _rows(record: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for entry in record.get("affected") or []:
        ecosystem = str(entry["package"]["ecosystem"])
        rows.append((record["id"], ecosystem, ecosystem.split(":")[0],
                     lookup_name(ecosystem, str(entry["package"]["name"]))))
    return rows


def import_records(db_path: Path, records: list[dict[str, Any]], source: str,
                   replace: bool = False, now: datetime | None = None) -> DbInfo:
    """Add (or with `replace`, load only) `records`; atomic: old DB or new DB, nothing between."""
    # BEGIN SOLUTION: copy the DB to a temp file beside it, write in one transaction, rename
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp",
                                    dir=db_path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if db_path.exists() and not replace:
            shutil.copyfile(db_path, tmp)
        else:
            tmp.unlink()
        with contextlib.closing(sqlite3.connect(tmp)) as conn, conn:
            conn.executescript(SCHEMA)
            sources = json.loads(_meta(conn, "sources") or "[]")
            for record in records:
                conn.execute("DELETE FROM affected WHERE record_id = ?", (record["id"],))
                conn.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                             (record["id"], record.get("modified", ""), json.dumps(record)))
                conn.executemany("INSERT INTO affected VALUES (?, ?, ?, ?)", _rows(record))
            built = (now or datetime.now(UTC)).isoformat(timespec="seconds")
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                ("built_at", built), ("sources", json.dumps([*sources, source])),
                ("schema", "1")])
        tmp.replace(db_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # END SOLUTION
    return info(db_path)


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


# ------------------------------------------------------------------ querying


def info(db_path: Path) -> DbInfo:
    if not db_path.is_file():
        raise NotFoundError(f"{db_path}: no vulnerability database (run `imgsec db import`)")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            count = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
            return DbInfo(db_path, int(count), _meta(conn, "built_at") or "",
                          json.loads(_meta(conn, "sources") or "[]"))
    except sqlite3.DatabaseError as exc:
        raise InvalidInputError(f"{db_path}: not an imgsec database ({exc})") from exc


class VulnDB:
    """Read-only access: candidate records for one package, through the index (or, for the
    benchmark's baseline, a full scan of the same table)."""

    def __init__(self, db_path: Path) -> None:
        self.info = info(db_path)
        self._conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True,
                                     check_same_thread=False)
        self._parsed: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def candidates(self, ecosystem: str, name: str, indexed: bool = True) -> list[dict[str, Any]]:
        """Records with an `affected` entry for this package name in this ecosystem family."""
        table = "affected AS a" if indexed else "affected AS a NOT INDEXED"
        # `table` is one of two constants, never input: no injection.
        rows = self._conn.execute(
            f"SELECT DISTINCT r.id, r.json FROM {table} JOIN records r ON r.id = a.record_id "  # noqa: S608
            "WHERE a.base = ? AND a.name = ?",
            (ecosystem.split(":")[0], lookup_name(ecosystem, name))).fetchall()
        result = []
        for record_id, text in rows:
            if record_id not in self._parsed:
                self._parsed[record_id] = json.loads(text)
            result.append(self._parsed[record_id])
        return result
