"""PostgreSQL, the serving store: one row per (user, window end), written by upsert.

`INSERT ... ON CONFLICT (user_id, window_end) DO UPDATE` makes a replayed Spark batch a no-op
(the same rows overwrite themselves), and scoring reads each user's newest window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from streamml.errors import BrokerUnavailableError

COLUMNS = ["user_id", "window_start", "window_end", "n_events", "n_views", "n_clicks",
           "n_purchases", "total_amount", "avg_amount", "last_event_time", "batch_id"]


def connect(dsn: str, timeout: float = 5.0) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(dsn, connect_timeout=max(int(timeout), 1), autocommit=False)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BrokerUnavailableError(f"cannot reach PostgreSQL: {first}") from exc


def ensure_table(conn: psycopg.Connection[Any], table: str) -> None:
    conn.execute(sql.SQL("""
        CREATE TABLE IF NOT EXISTS {} (
            user_id text NOT NULL,
            window_start timestamptz NOT NULL,
            window_end timestamptz NOT NULL,
            n_events bigint NOT NULL,
            n_views bigint NOT NULL,
            n_clicks bigint NOT NULL,
            n_purchases bigint NOT NULL,
            total_amount double precision NOT NULL,
            avg_amount double precision NOT NULL,
            last_event_time timestamptz NOT NULL,
            batch_id bigint NOT NULL,
            PRIMARY KEY (user_id, window_end))""").format(sql.Identifier(table)))
    conn.commit()


def upsert_features(conn: psycopg.Connection[Any], table: str,
                    rows: Iterable[Sequence[Any]]) -> int:
    """Upsert rows (in COLUMNS order) in one transaction; returns the number written."""
    # BEGIN SOLUTION
    statement = sql.SQL(
        "INSERT INTO {table} ({cols}) VALUES ({values}) "
        "ON CONFLICT (user_id, window_end) DO UPDATE SET {updates}").format(
        table=sql.Identifier(table),
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS),
        values=sql.SQL(", ").join(sql.Placeholder() for _ in COLUMNS),
        updates=sql.SQL(", ").join(
            sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
            for c in COLUMNS if c not in ("user_id", "window_end")))
    batch = [tuple(r) for r in rows]
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(statement, batch)
    return len(batch)
    # END SOLUTION


def latest_features(conn: psycopg.Connection[Any], table: str,
                    users: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each user's newest window (by window_end), as a dict of columns."""
    ids = sorted(set(users))
    if not ids:
        return {}
    query = sql.SQL("SELECT DISTINCT ON (user_id) {cols} FROM {table} "
                    "WHERE user_id = ANY(%s) ORDER BY user_id, window_end DESC").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS),
        table=sql.Identifier(table))
    with conn.cursor() as cur:
        cur.execute(query, (ids,))
        rows = cur.fetchall()
    conn.commit()
    return {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows}


def all_rows(conn: psycopg.Connection[Any], table: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT {} FROM {} ORDER BY user_id, window_end").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS), sql.Identifier(table)))
        rows = cur.fetchall()
    conn.commit()
    return rows
