"""The DuckDB store: idempotent re-ingest, restated days win, failures change nothing."""

from __future__ import annotations

from datetime import date

import pytest

from costwatch.errors import SchemaError
from costwatch.focus import normalize
from costwatch.store import Store
from tests.conftest import NOW, load, row, table, usd_rates

pytestmark = pytest.mark.points(3)


def _total(store: Store) -> float:
    got = store.con.execute('SELECT sum("BilledCost") FROM costs').fetchone()
    return float(got[0]) if got and got[0] is not None else 0.0


def test_reingesting_a_period_replaces_it(store: Store) -> None:
    rows = [row("2026-05-01", 10.0), row("2026-05-02", 20.0)]
    load(store, rows, start=date(2026, 5, 1), end=date(2026, 5, 3))
    load(store, rows, start=date(2026, 5, 1), end=date(2026, 5, 3))
    assert store.row_count() == 2 and _total(store) == 30.0
    assert [i["replaced"] for i in store.ingests()] == [0, 2]


def test_restated_day_wins_and_neighbours_stay(store: Store) -> None:
    load(store, [row("2026-05-01", 10.0), row("2026-05-02", 20.0)],
         start=date(2026, 5, 1), end=date(2026, 5, 3))
    load(store, [row("2026-05-02", 25.0)], start=date(2026, 5, 2), end=date(2026, 5, 3))
    assert _total(store) == 35.0


@pytest.mark.hidden
def test_other_sources_are_untouched(store: Store) -> None:
    load(store, [row("2026-05-01", 10.0)], source="a")
    load(store, [row("2026-05-01", 5.0)], source="b")
    load(store, [row("2026-05-01", 1.0)], source="a")
    assert _total(store) == 6.0


def test_failed_ingest_leaves_store_unchanged(store: Store) -> None:
    load(store, [row("2026-05-01", 10.0)], start=date(2026, 5, 1), end=date(2026, 5, 2))
    batch = normalize(table([row("2026-05-01", 99.0), row("2026-07-01", 1.0)]), source="test",
                      rates=usd_rates(), now=NOW)
    with pytest.raises(SchemaError, match="outside the period"):
        store.replace_period(batch, "test", date(2026, 5, 1), date(2026, 5, 2))
    assert _total(store) == 10.0 and len(store.ingests()) == 1


def test_store_persists_on_disk(store_path: object) -> None:
    with Store(str(store_path)) as s:
        load(s, [row("2026-05-01", 4.0)])
    with Store(str(store_path), read_only=True) as s:
        assert s.row_count() == 1 and s.date_span() == (date(2026, 5, 1), date(2026, 5, 1))
