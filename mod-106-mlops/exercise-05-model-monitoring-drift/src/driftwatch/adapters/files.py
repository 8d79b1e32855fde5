"""Reading prediction logs and labels: JSONL or Parquet, chosen by the file's suffix."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from aiinfra_shared.io import atomic_write_bytes

from driftwatch.errors import BadValuesError, NotFoundError, SchemaError

SUFFIXES = (".jsonl", ".parquet")


def read_table(path: Path) -> pd.DataFrame:
    """A prediction log, labels file or training set as a DataFrame."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    if path.suffix not in SUFFIXES:
        raise SchemaError(f"{path}: unsupported format (use {' or '.join(SUFFIXES)})")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_json(path, lines=True, convert_dates=False)
    except ValueError as exc:
        raise BadValuesError(f"{path}: cannot parse ({str(exc).splitlines()[0][:120]})") from exc


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Atomically write `frame` as JSONL or Parquet (by suffix); timestamps in ISO 8601."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise SchemaError(f"{path}: unsupported format (use {' or '.join(SUFFIXES)})")
    if path.suffix == ".parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write_bytes(path, buffer.getvalue())
    else:
        text = frame.to_json(orient="records", lines=True, date_format="iso")
        atomic_write_bytes(path, text.encode())
