"""SQL against PostgreSQL through psycopg: probes, restore points, promotion, checksums.

Every connection has a connect timeout and a statement_timeout, because a synchronous
commit whose standby is gone waits forever otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from drkit.errors import UnavailableError


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    user: str = "postgres"
    database: str = "postgres"

    @classmethod
    def from_dsn(cls, dsn: str) -> Endpoint:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
        return cls(str(info.get("host", "127.0.0.1")), int(str(info.get("port", 5432))),
                   str(info.get("user", "postgres")), str(info.get("dbname", "postgres")))

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def with_database(self, database: str) -> Endpoint:
        return Endpoint(self.host, self.port, self.user, database)


def multi_host_dsn(endpoints: list[Endpoint], database: str = "postgres") -> str:
    """libpq multi-host URL that always lands on the writable node."""
    hosts = ",".join(f"{e.host}:{e.port}" for e in endpoints)
    return (f"postgresql://{endpoints[0].user}@{hosts}/{database}"
            "?target_session_attrs=read-write&connect_timeout=2")


def connect(dsn: str, *, timeout_s: float = 3.0, statement_timeout_ms: int = 30_000,
            autocommit: bool = True) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(dsn, connect_timeout=max(1, int(timeout_s)),
                               autocommit=autocommit,
                               options=f"-c statement_timeout={statement_timeout_ms}")
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnavailableError(f"cannot connect to PostgreSQL: {first}") from exc
    return conn


def probe(dsn: str, timeout_s: float = 1.0) -> tuple[bool, bool]:
    """Health probe: (reachable, in_recovery)."""
    try:
        with connect(dsn, timeout_s=timeout_s, statement_timeout_ms=2000) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            return True, bool(row and row[0])
    except (UnavailableError, psycopg.Error):
        return False, False


def scalar(dsn: str, query: str, params: tuple[Any, ...] = ()) -> Any:
    with connect(dsn) as conn:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


def create_restore_point(dsn: str, name: str) -> tuple[str, datetime]:
    """pg_create_restore_point, then a WAL switch so the segment gets archived now."""
    with connect(dsn) as conn:
        row = conn.execute("SELECT pg_create_restore_point(%s)::text, clock_timestamp()",
                           (name,)).fetchone()
        conn.execute("SELECT pg_switch_wal()")
        assert row is not None
        return str(row[0]), row[1]


def switch_wal(dsn: str) -> str:
    """Close the current WAL segment (so it gets archived); returns its file name."""
    return str(scalar(dsn, "SELECT pg_walfile_name(pg_switch_wal())"))


def promote(dsn: str, wait_s: int = 30) -> bool:
    """pg_promote(wait => true): True once the standby accepts writes."""
    with connect(dsn, statement_timeout_ms=(wait_s + 5) * 1000) as conn:
        row = conn.execute("SELECT pg_promote(true, %s)", (wait_s,)).fetchone()
        return bool(row and row[0])


def databases(dsn: str) -> list[str]:
    with connect(dsn) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate "
                            "ORDER BY datname").fetchall()
    return [str(r[0]) for r in rows]


def table_checks(conn: psycopg.Connection[Any]) -> list[tuple[str, int, str]]:
    """(schema.table, rows, checksum) for every user table, order-independent checksum."""
    tables = conn.execute(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN "
        "('pg_catalog', 'information_schema') ORDER BY 1, 2").fetchall()
    checks = []
    for schema, table in tables:
        query = sql.SQL("SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)"
                        "::text FROM {}.{} t").format(sql.Identifier(schema),
                                                      sql.Identifier(table))
        row = conn.execute(query).fetchone()
        assert row is not None
        checks.append((f"{schema}.{table}", int(row[0]), str(row[1])))
    return checks


def lock_tables(conn: psycopg.Connection[Any]) -> None:
    """SHARE-lock every user table: writers wait, so checksums match the restore point."""
    tables = conn.execute(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN "
        "('pg_catalog', 'information_schema')").fetchall()
    for schema, table in tables:
        conn.execute(sql.SQL("LOCK TABLE {}.{} IN SHARE MODE").format(
            sql.Identifier(schema), sql.Identifier(table)))


def server_version(dsn: str) -> int:
    return int(scalar(dsn, "SHOW server_version_num")) // 10000


def replication_lag_bytes(dsn: str) -> dict[str, int]:
    """Per standby application_name: bytes between sent and replayed WAL on the primary."""
    with connect(dsn) as conn:
        rows = conn.execute(
            "SELECT application_name, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), "
            "replay_lsn), 0)::bigint FROM pg_stat_replication").fetchall()
    return {str(r[0]): int(r[1]) for r in rows}
