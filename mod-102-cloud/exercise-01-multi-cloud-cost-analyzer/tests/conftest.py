"""Shared test helpers: hand-written FOCUS rows, a store, the bundled currency table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import pyarrow as pa
import pytest

from costwatch.currency import RateTable
from costwatch.focus import normalize
from costwatch.store import Store

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def row(day: str, cost: float, provider: str = "AWS", service: str = "EC2",
        account: str = "111", **extra: Any) -> dict[str, Any]:
    """One FOCUS row for one day; `extra` sets any other column (Tags as a dict)."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    values: dict[str, Any] = {
        "ProviderName": provider, "ServiceName": service, "SubAccountId": account,
        "ChargePeriodStart": start, "ChargePeriodEnd": start.replace(hour=23, minute=59),
        "BilledCost": cost, "EffectiveCost": cost, "BillingCurrency": "USD",
    }
    tags = extra.pop("Tags", None)
    values.update(extra)
    if tags is not None:
        import json

        values["Tags"] = json.dumps(tags)
    return values


def table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows -> Arrow; columns are the union of all rows' keys (from_pylist takes the first's)."""
    names = list(dict.fromkeys(key for r in rows for key in r))
    return pa.table({name: [r.get(name) for r in rows] for name in names})


def usd_rates() -> RateTable:
    rates = RateTable()
    rates.add("EUR", "USD", date(2026, 1, 1), 1.10)
    rates.add("EUR", "USD", date(2026, 6, 1), 1.20)
    return rates


def load(store: Store, rows: list[dict[str, Any]], source: str = "test",
         start: date = date(2026, 1, 1), end: date = date(2026, 12, 1)) -> None:
    batch = normalize(table(rows), source=source, rates=usd_rates(), now=NOW)
    store.replace_period(batch, source, start, end)


@pytest.fixture
def store() -> Iterator[Store]:
    with Store(":memory:") as opened:
        yield opened


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "costs.duckdb"


T = TypeVar("T")


class Lazy(Generic[T]):
    """A fixture value built on first use inside a test body.

    Fixtures that ingest data run the learner's code; built lazily, a missing implementation
    makes each test fail (with the NotImplementedError) instead of erroring in setup.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._error: BaseException | None = None
        self.built = False

    def get(self) -> T:
        if self._error is not None:
            raise self._error
        if not self.built:
            try:
                self._value = self._build()
            except Exception as exc:
                self._error = exc
                raise
            self.built = True
        return self._value  # type: ignore[return-value]
