"""Ingest: fetch from one source, normalise to FOCUS, replace the period in the store.

Every source adapter implements `CostSource`; this module is the only place that strings
fetch -> normalize -> Store.replace_period together, so each adapter stays a thin
translation of one provider's API and every source gets the same validation, currency
conversion and all-or-nothing transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from costwatch.currency import RateTable
from costwatch.errors import DateRangeError
from costwatch.focus import TS, cast_column, normalize
from costwatch.store import IngestResult, Store


class CostSource(Protocol):
    """One billing source. `fetch` returns FOCUS-named columns for charges in [start, end)."""

    name: str  # the default `x_Source` key: re-ingesting a period of it replaces it

    def fetch(self, start: date, end: date) -> pa.Table: ...


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    @classmethod
    def checked(cls, start: date, end: date, today: date | None = None) -> Period:
        """A period that is non-empty and not in the future (a bill cannot predate use)."""
        now = today or datetime.now(UTC).date()
        if end <= start:
            raise DateRangeError(f"empty date range: end {end} is not after start {start}")
        if start > now:
            raise DateRangeError(f"date range {start}..{end} lies in the future "
                                 f"(today is {now})")
        if end > now + timedelta(days=1):
            raise DateRangeError(f"end {end} is in the future: the last complete period "
                                 f"ends {now + timedelta(days=1)} (exclusive)")
        return cls(start, end)


def period_of(table: pa.Table) -> Period:
    """The days a file covers: first charge day to the day after the last."""
    if len(table) == 0 or "ChargePeriodStart" not in table.column_names:
        raise DateRangeError("the input has no rows to take a period from")
    column = table.column("ChargePeriodStart")
    if not pa.types.is_timestamp(column.type):
        column = cast_column("ChargePeriodStart", column, TS)
    lo, hi = pc.min(column).as_py(), pc.max(column).as_py()
    return Period(lo.date(), hi.date() + timedelta(days=1))


def ingest(store: Store, source: CostSource, period: Period | None, rates: RateTable,
           reporting_currency: str = "USD", source_key: str | None = None,
           now: datetime | None = None) -> IngestResult:
    """Fetch, normalise and store one period of one source, all or nothing."""
    raw = source.fetch(date.min, date.max) if period is None else source.fetch(
        period.start, period.end)
    key = source_key or source.name
    batch = normalize(raw, source=key, rates=rates, reporting_currency=reporting_currency,
                      now=now)
    if period is None:
        period = period_of(batch)
    return store.replace_period(batch, key, period.start, period.end, now=now)
