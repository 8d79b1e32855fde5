"""Any FOCUS export file (CSV or Parquet), local: what every cloud's FOCUS export writes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from costwatch.errors import SchemaError
from costwatch.focus import filter_period


def read_focus_bytes(data: bytes, name: str) -> pa.Table:
    """Parse a FOCUS file's bytes; the format comes from the name's suffix."""
    reader = pa.BufferReader(data)
    try:
        if name.endswith(".parquet"):
            return pq.read_table(reader)
        if name.endswith((".csv", ".csv.gz")):
            options = pacsv.ConvertOptions(strings_can_be_null=True,
                                           column_types={"Tags": pa.string()})
            read = pacsv.ReadOptions(block_size=1 << 24)
            compression = "gzip" if name.endswith(".gz") else None
            stream = pa.CompressedInputStream(reader, compression) if compression else reader
            return pacsv.read_csv(stream, read_options=read, convert_options=options)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SchemaError(f"{name}: cannot parse: {str(exc).splitlines()[0]}") from exc
    raise SchemaError(f"{name}: unknown file type (use .csv, .csv.gz or .parquet)")


class FocusFileSource:
    """A local FOCUS CSV/Parquet file. `fetch` returns the rows in [start, end)."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = Path(path)
        self.name = name or f"file:{self.path.stem}"

    def fetch(self, start: date, end: date) -> pa.Table:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise SchemaError(f"{self.path}: cannot read ({exc.strerror})") from exc
        table = read_focus_bytes(data, self.path.name)
        return filter_period(table, start, end)
