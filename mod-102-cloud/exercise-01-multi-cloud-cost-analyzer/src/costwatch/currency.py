"""A dated currency table: which rate converts X into the reporting currency on a given day.

Rates change; a restated January must be converted at January's rates, not today's. Each
entry is valid from its date until the next entry for the same pair. Pure: the table is
read from a CSV file by `load_rates` (date,currency,rate_to,per), everything else is math.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from costwatch.errors import CurrencyError

_EPOCH = date(1970, 1, 1).toordinal()


@dataclass
class RateTable:
    """(from, to) -> sorted (valid_from_day, rate) pairs; days counted from 1970-01-01."""

    _pairs: dict[tuple[str, str], list[tuple[int, float]]] = field(
        default_factory=lambda: defaultdict(list))

    def add(self, currency: str, to: str, valid_from: date, rate: float) -> None:
        if rate <= 0:
            raise CurrencyError(f"rate {currency}->{to} on {valid_from} must be positive")
        pairs = self._pairs[(currency.upper(), to.upper())]
        pairs.append((valid_from.toordinal() - _EPOCH, float(rate)))
        pairs.sort()

    def has(self, currency: str, to: str) -> bool:
        return bool(self._pairs.get((currency.upper(), to.upper())))

    def lookup(self, currency: str, to: str, days: np.ndarray) -> np.ndarray:
        """Rates for each day (int days since epoch); CurrencyError before the first entry."""
        pairs = self._pairs.get((currency.upper(), to.upper()))
        if not pairs:
            raise CurrencyError(f"no {currency}->{to} rate in the currency table")
        starts = np.array([p[0] for p in pairs], dtype=np.int64)
        values = np.array([p[1] for p in pairs], dtype=np.float64)
        index = np.searchsorted(starts, days, side="right") - 1
        if (index < 0).any():
            first = date.fromordinal(int(days[index < 0].min()) + _EPOCH)
            valid = date.fromordinal(int(starts[0]) + _EPOCH)
            raise CurrencyError(f"no {currency}->{to} rate valid on {first} "
                                f"(table starts {valid})")
        return values[index]

    def rate_on(self, currency: str, to: str, day: date) -> float:
        if currency.upper() == to.upper():
            return 1.0
        days = np.array([day.toordinal() - _EPOCH], dtype=np.int64)
        return float(self.lookup(currency, to, days)[0])


def load_rates(path: Path) -> RateTable:
    """Read `date,currency,to,rate` rows (header required); one bad line names its number."""
    table = RateTable()
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        needed = {"date", "currency", "to", "rate"}
        if not reader.fieldnames or not needed <= set(reader.fieldnames):
            raise CurrencyError(f"{path}: header must have columns {sorted(needed)}")
        for line, row in enumerate(reader, start=2):
            try:
                table.add(row["currency"], row["to"], date.fromisoformat(row["date"]),
                          float(row["rate"]))
            except ValueError as exc:
                raise CurrencyError(f"{path}:{line}: {exc}") from exc
    return table
