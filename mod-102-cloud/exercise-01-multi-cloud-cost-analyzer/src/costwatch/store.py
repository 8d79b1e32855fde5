"""The local DuckDB store: one `costs` table in FOCUS 1.2 columns, one `ingests` ledger.

Why DuckDB: a billing history is tens of millions of narrow rows queried by column
aggregates; an embedded columnar engine answers those in milliseconds with plain SQL and a
single file to back up. The session time zone is pinned to UTC so that a charge's day is
the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa

from costwatch.errors import SchemaError, StoreError
from costwatch.focus import COLUMNS, SCHEMA

_SQL_TYPES = {pa.string(): "VARCHAR", pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN"}


def _sql_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ"
    return _SQL_TYPES[arrow_type]


DDL = (
    "CREATE TABLE IF NOT EXISTS costs ("
    + ", ".join(f'"{c.name}" {_sql_type(c.type)}' for c in COLUMNS)
    + ', "x_IngestId" BIGINT)',
    "CREATE SEQUENCE IF NOT EXISTS ingest_ids START 1",
    "CREATE TABLE IF NOT EXISTS ingests (id BIGINT PRIMARY KEY, source VARCHAR NOT NULL, "
    "period_start DATE NOT NULL, period_end DATE NOT NULL, rows BIGINT NOT NULL, "
    "replaced BIGINT NOT NULL, ingested_at TIMESTAMPTZ NOT NULL)",
)


@dataclass(frozen=True)
class IngestResult:
    ingest_id: int
    source: str
    start: date
    end: date
    rows: int
    replaced: int  # rows of earlier ingests of this source and period that were dropped

    def as_dict(self) -> dict[str, Any]:
        return {"ingest_id": self.ingest_id, "source": self.source,
                "start": self.start.isoformat(), "end": self.end.isoformat(),
                "rows": self.rows, "replaced": self.replaced}


class Store:
    """A DuckDB file (or ":memory:") holding normalised costs."""

    def __init__(self, path: Path | str, read_only: bool = False) -> None:
        self.path = str(path)
        if read_only and self.path != ":memory:" and not Path(self.path).exists():
            raise StoreError(f"no store at {self.path}: run `costwatch ingest` first")
        if not read_only and self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        self.con.execute("SET TimeZone='UTC'")
        if not read_only:
            for statement in DDL:
                self.con.execute(statement)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def replace_period(self, batch: pa.Table, source: str, start: date, end: date,
                       now: datetime | None = None) -> IngestResult:
        """Replace `source`'s rows charged in [start, end) by `batch`, in one transaction.

        Re-ingesting a period is idempotent, and a restated day (a provider correcting an
        estimate) wins because the newest ingest of a period is the only one kept. On any
        error the transaction is rolled back and the store is exactly as before.
        """
        # BEGIN SOLUTION: check the period, then delete + insert + ledger in one transaction
        if batch.schema != SCHEMA:
            raise SchemaError("batch is not normalised to the FOCUS schema (call normalize)")
        if end <= start:
            raise SchemaError(f"empty period {start}..{end}")
        lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
        hi = datetime(end.year, end.month, end.day, tzinfo=UTC)
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("incoming", batch)
            outside = con.execute(
                'SELECT count(*) FROM incoming WHERE "ChargePeriodStart" < ? '
                'OR "ChargePeriodStart" >= ?', [lo, hi]).fetchall()[0]
            if outside and outside[0]:
                raise SchemaError(f"{outside[0]} row(s) charged outside the period "
                                  f"{start}..{end - timedelta(days=1)}")
            ingest_id = _scalar(con, "SELECT nextval('ingest_ids')")
            replaced = _scalar(
                con, 'SELECT count(*) FROM costs WHERE "x_Source" = ? AND '
                '"ChargePeriodStart" >= ? AND "ChargePeriodStart" < ?', [source, lo, hi])
            con.execute('DELETE FROM costs WHERE "x_Source" = ? AND "ChargePeriodStart" >= ? '
                        'AND "ChargePeriodStart" < ?', [source, lo, hi])
            con.execute("INSERT INTO costs SELECT *, ? FROM incoming", [ingest_id])
            con.execute("INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [ingest_id, source, start, end, len(batch), replaced,
                         now or datetime.now(UTC)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("incoming")
        return IngestResult(int(ingest_id), source, start, end, len(batch), int(replaced))
        # END SOLUTION

    def row_count(self) -> int:
        return _scalar(self.con, "SELECT count(*) FROM costs")

    def date_span(self) -> tuple[date, date] | None:
        """First and last charge day in the store, or None when it is empty."""
        row = self.con.execute('SELECT min("ChargePeriodStart")::DATE, '
                               'max("ChargePeriodStart")::DATE FROM costs').fetchall()[0]
        if not row or row[0] is None:
            return None
        return row[0], row[1]

    def ingests(self) -> list[dict[str, Any]]:
        cursor = self.con.execute("SELECT * FROM ingests ORDER BY id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        return self.con.sql(sql, params=params or None).to_arrow_table()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    # fetchall, not fetchone: DuckDB refuses new work while a result is half-read.
    row = con.execute(sql, params or []).fetchall()[0]
    return int(row[0]) if row and row[0] is not None else 0
