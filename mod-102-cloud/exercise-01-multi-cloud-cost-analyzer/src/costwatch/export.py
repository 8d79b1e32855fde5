"""FOCUS export: the store as typed FOCUS 1.2 Parquet (what OpenCost users ask for, #3998).

The columns keep their FOCUS types (UTC timestamps, float costs, string ids, Tags as a JSON
object string); costwatch's own columns keep the `x_` prefix FOCUS reserves for extensions.
The file is written to a temp file and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from aiinfra_shared.io import atomic_write_bytes

from costwatch.analysis import Filters
from costwatch.focus import COLUMN_NAMES, SCHEMA
from costwatch.store import Store


def focus_table(store: Store, filters: Filters) -> pa.Table:
    """The filtered store with exactly the FOCUS schema, ordered by charge period."""
    where, params = filters.where()
    columns = ", ".join(f'"{name}"' for name in COLUMN_NAMES)
    sql = (f"SELECT {columns} FROM costs WHERE {where} "  # noqa: S608 (identifiers are ours)
           'ORDER BY "ChargePeriodStart", "ProviderName", "ServiceName"')
    table = store.arrow(sql, params)
    return table.cast(SCHEMA)


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    metadata = {b"focus_version": b"1.2", b"generator": b"costwatch"}
    pq.write_table(table.replace_schema_metadata(metadata), buffer, compression="zstd")
    return buffer.getvalue()


def export_focus(store: Store, filters: Filters, target: str, s3_client: Any = None
                 ) -> int:
    """Write the export to a local path or s3://bucket/key; returns the row count."""
    table = focus_table(store, filters)
    if target.startswith("s3://"):
        from costwatch.adapters.aws import put_parquet

        put_parquet(s3_client, target, table)
    else:
        atomic_write_bytes(Path(target), parquet_bytes(table))
    return len(table)
