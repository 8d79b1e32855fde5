"""Schema and quality validation of an incoming data file (pandera).

Returns a report instead of raising, because the data DAG branches on it: bad data is
quarantined and alerted on, good data is published. The report names every failing column
and row so the person on call can fix the source without re-running anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from mlworkflows.data import TARGET, feature_columns

MIN_ROWS = 50
MAX_DUPLICATE_FRACTION = 0.05
MAX_FAILURES_LISTED = 50


@dataclass
class Failure:
    column: str
    check: str
    row: int | None
    value: str


@dataclass
class ValidationReport:
    path: str
    ok: bool
    rows: int = 0
    error: str | None = None
    failures: list[Failure] = field(default_factory=list)
    failing_columns: list[str] = field(default_factory=list)
    failing_rows: list[int] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            return f"{self.path}: valid ({self.rows} rows)"
        if self.error:
            return f"{self.path}: {self.error}"
        rows = ", ".join(str(r) for r in self.failing_rows[:10])
        more = "..." if len(self.failing_rows) > 10 else ""
        return (f"{self.path}: {len(self.failures)} schema/quality failures in columns "
                f"{', '.join(self.failing_columns)}" + (f"; rows {rows}{more}" if rows else ""))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_schema(labelled: bool = True) -> pa.DataFrameSchema:
    """Every feature is a non-null, non-negative float; the label is 0 or 1."""
    # BEGIN SOLUTION: pandera: non-null features >= 0, label in {0, 1}, min rows, few duplicates
    columns: dict[str, pa.Column] = {
        name: pa.Column(float, checks=[pa.Check.ge(0)], nullable=False, coerce=True)
        for name in feature_columns()
    }
    if labelled:
        columns[TARGET] = pa.Column(int, checks=[pa.Check.isin([0, 1])], nullable=False,
                                    coerce=True)
    return pa.DataFrameSchema(columns, strict=False, checks=[
        pa.Check(lambda df: len(df) >= MIN_ROWS, name=f"at_least_{MIN_ROWS}_rows"),
        pa.Check(lambda df: float(df.duplicated().mean()) <= MAX_DUPLICATE_FRACTION,
                 name=f"duplicates_at_most_{MAX_DUPLICATE_FRACTION:.0%}"),
    ])
    # END SOLUTION


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV or raise ValueError with a one-line reason (missing, empty, corrupt)."""
    if not path.exists():
        raise ValueError("file does not exist")
    if path.stat().st_size == 0:
        raise ValueError("file is empty")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"cannot parse CSV: {first}") from exc


def validate_frame(frame: pd.DataFrame, path: str, labelled: bool = True) -> ValidationReport:
    schema = build_schema(labelled=labelled)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _report_from(exc.failure_cases, path, len(frame))
    return ValidationReport(path=path, ok=True, rows=len(frame))


def validate_file(path: Path, labelled: bool = True) -> ValidationReport:
    try:
        frame = read_csv(path)
    except ValueError as exc:
        return ValidationReport(path=str(path), ok=False, error=str(exc))
    return validate_frame(frame, str(path), labelled=labelled)


def _report_from(cases: pd.DataFrame, path: str, rows: int) -> ValidationReport:
    # BEGIN SOLUTION: turn pandera failure cases into failures, failing columns and failing rows
    failures: list[Failure] = []
    for record in cases.to_dict(orient="records"):
        column = record.get("column")
        index = record.get("index")
        failures.append(Failure(
            column=str(column) if column is not None and not pd.isna(column) else "<table>",
            check=str(record.get("check")),
            row=int(index) if index is not None and not pd.isna(index) else None,
            value=str(record.get("failure_case")),
        ))
    columns = sorted({f.column for f in failures})
    failing_rows = sorted({f.row for f in failures if f.row is not None})
    return ValidationReport(path=path, ok=False, rows=rows,
                            failures=failures[:MAX_FAILURES_LISTED],
                            failing_columns=columns, failing_rows=failing_rows)
    # END SOLUTION
