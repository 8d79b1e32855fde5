"""Data validation: a pandera schema plus dataset-level checks (class balance, shift).

The schema is derived from a profile of the last accepted data version
(`data/reference/profile.json`, committed): types, value ranges, nulls and id uniqueness per
column; class balance from params; shift as the population stability index (PSI) of each
feature against the profile's quantile bins. Everything here is pure: frames in, a result out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

ID_COLUMN = "id"
TARGET_COLUMN = "target"
BINS = 10
MAX_ROWS_SHOWN = 10


@dataclass(frozen=True)
class Failure:
    """One failing check: which column, which check, how many rows, the first few row ids."""

    column: str
    check: str
    count: int
    rows: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"column": self.column, "check": self.check, "count": self.count,
                "rows": self.rows}


@dataclass(frozen=True)
class ValidationResult:
    rows: int
    failures: list[Failure]
    psi: dict[str, float]
    minority_share: float

    @property
    def valid(self) -> bool:
        return not self.failures

    def metrics(self) -> dict[str, Any]:
        """The flat numbers DVC tracks as metrics (reports/validation.json)."""
        return {"valid": int(self.valid), "rows": self.rows, "failures": len(self.failures),
                "max_psi": round(max(self.psi.values(), default=0.0), 6),
                "minority_share": round(self.minority_share, 6)}


def feature_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in (ID_COLUMN, TARGET_COLUMN)]


def build_profile(frame: pd.DataFrame) -> dict[str, Any]:
    """Profile of an accepted data version: per feature range and quantile bin edges."""
    columns = {}
    for column in feature_columns(frame):
        values = frame[column].astype(float)
        edges = np.unique(np.quantile(values, np.linspace(0, 1, BINS + 1)))
        columns[column] = {"min": float(values.min()), "max": float(values.max()),
                           "edges": [round(float(e), 8) for e in edges],
                           "shares": _shares(values.to_numpy(), edges)}
    return {"rows": len(frame), "columns": columns}


def _shares(values: np.ndarray, edges: np.ndarray) -> list[float]:
    inner = np.asarray(edges)[1:-1]
    counts = np.bincount(np.searchsorted(inner, values, side="right"), minlength=len(edges) - 1)
    return [round(float(c) / max(len(values), 1), 8) for c in counts]


def psi(reference_shares: list[float], current_shares: list[float], eps: float = 1e-4) -> float:
    """Population stability index: sum((cur - ref) * ln(cur / ref)); 0 = same distribution,
    > 0.25 is the usual 'significant shift' threshold."""
    # BEGIN SOLUTION
    ref = np.clip(np.asarray(reference_shares, dtype=float), eps, None)
    cur = np.clip(np.asarray(current_shares, dtype=float), eps, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))
    # END SOLUTION


def build_schema(profile: dict[str, Any]) -> pa.DataFrameSchema:
    """Types, nulls and plausible ranges per column, id unique, target binary.

    The range is the profile's [min, max] widened by its span on both sides: a new data version
    may be wider than the last one, but a value outside 3x the span (or a negative size) is a
    broken sensor or a unit change, not a new patient.
    """
    # BEGIN SOLUTION
    columns: dict[str, pa.Column] = {
        ID_COLUMN: pa.Column(int, nullable=False, unique=True),
        TARGET_COLUMN: pa.Column(int, pa.Check.isin([0, 1]), nullable=False),
    }
    for name, spec in profile["columns"].items():
        span = spec["max"] - spec["min"]
        low = max(0.0, spec["min"] - span)
        high = spec["max"] + span
        columns[name] = pa.Column(float, pa.Check.in_range(low, high), nullable=False,
                                  coerce=False)
    return pa.DataFrameSchema(columns, strict=True, coerce=False)
    # END SOLUTION


def validate(frame: pd.DataFrame, profile: dict[str, Any], min_minority_share: float,
             max_psi: float) -> ValidationResult:
    """Run the schema (lazily: every failure, not the first) and the dataset-level checks."""
    # BEGIN SOLUTION
    failures: list[Failure] = []
    schema = build_schema(profile)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures.extend(_schema_failures(exc.failure_cases, frame))
    share = 0.0
    if TARGET_COLUMN in frame and len(frame):
        counts = frame[TARGET_COLUMN].value_counts(normalize=True)
        share = float(counts.min()) if len(counts) > 1 else 0.0
        if share < min_minority_share:
            failures.append(Failure(TARGET_COLUMN,
                                    f"class_balance(minority >= {min_minority_share})",
                                    len(frame)))
    shifts, shift_failures = shift_check(frame, profile, max_psi)
    failures.extend(shift_failures)
    return ValidationResult(len(frame), failures, shifts, share)
    # END SOLUTION


def shift_check(frame: pd.DataFrame, profile: dict[str, Any],
                max_psi: float) -> tuple[dict[str, float], list[Failure]]:
    """PSI of every numeric profiled column against the last accepted data, and a failure for
    each above `max_psi`. Shared by both engines: Great Expectations has no PSI expectation."""
    # BEGIN SOLUTION
    shifts: dict[str, float] = {}
    failures: list[Failure] = []
    for name, spec in profile["columns"].items():
        if name not in frame or not pd.api.types.is_numeric_dtype(frame[name]):
            continue
        values = frame[name].dropna().astype(float).to_numpy()
        edges = np.asarray(spec["edges"], dtype=float)
        shifts[name] = round(psi(spec["shares"], _shares(values, edges)), 6)
        if shifts[name] > max_psi:
            failures.append(Failure(name, f"shift(psi {shifts[name]:.3f} > {max_psi})",
                                    len(values)))
    return shifts, failures
    # END SOLUTION


def _schema_failures(cases: pd.DataFrame, frame: pd.DataFrame) -> list[Failure]:
    """Group pandera's failure cases by (column, check), with the ids of the failing rows."""
    out = []
    ids = frame[ID_COLUMN] if ID_COLUMN in frame else pd.Series(frame.index, index=frame.index)
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=True):
        rows = [int(ids.loc[i]) if i in ids.index else int(i)
                for i in group["index"].dropna().astype(int).tolist()[:MAX_ROWS_SHOWN]]
        out.append(Failure(str(column if column is not None else "<frame>"), str(check),
                           len(group), rows))
    return out
