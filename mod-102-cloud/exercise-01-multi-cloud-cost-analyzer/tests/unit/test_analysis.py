"""Known-answer rollups, allocation with shared costs and untagged spend, in DuckDB SQL."""

from __future__ import annotations

from datetime import date

import pytest

from costwatch import analysis
from costwatch.analysis import Filters, SharedRule
from costwatch.errors import UsageError
from costwatch.store import Store
from tests.conftest import Lazy, load, row

MAY = Filters(date(2026, 5, 1), date(2026, 6, 1))


@pytest.fixture
def loaded_lazy(store: Store) -> Lazy[Store]:
    return Lazy(lambda: _loaded(store))


def _loaded(store: Store) -> Store:
    load(store, [
        row("2026-05-01", 60.0, service="EC2", Tags={"team": "ml"}),
        row("2026-05-02", 40.0, service="EC2", account="222", Tags={"team": "web"}),
        row("2026-05-02", 30.0, service="S3"),
        row("2026-05-03", 20.0, service="EKS", Tags={"team": "shared"}),
        row("2026-05-03", 7.0, provider="Google Cloud", service="BigQuery", account="p1",
            Tags={"team": "ml"}),
        row("2026-06-01", 1000.0, service="EC2", Tags={"team": "ml"}),
    ])
    return store


@pytest.mark.points(3)
def test_rollups_by_dimension_known_answer(loaded_lazy: Lazy[Store]) -> None:
    loaded = loaded_lazy.get()
    assert analysis.totals(loaded, MAY) == {"AWS": 150.0, "Google Cloud": 7.0}
    by_service = {r["key"]: r["cost"] for r in analysis.rollup(loaded, "service", MAY)}
    assert by_service == {"EC2": 100.0, "S3": 30.0, "EKS": 20.0, "BigQuery": 7.0}
    by_account = {r["key"]: r["cost"] for r in analysis.rollup(loaded, "account", MAY)}
    assert by_account == {"111": 110.0, "222": 40.0, "p1": 7.0}
    by_team = {r["key"]: r["cost"] for r in analysis.rollup(loaded, "tag:team", MAY)}
    assert by_team == {"ml": 67.0, "web": 40.0, "(untagged)": 30.0, "shared": 20.0}
    daily = analysis.rollup(loaded, "provider", MAY, granularity="day")
    assert [(r["period"], r["key"], r["cost"]) for r in daily][:2] == [
        (date(2026, 5, 1), "AWS", 60.0), (date(2026, 5, 2), "AWS", 70.0)]


@pytest.mark.points(2)
def test_filters_scope_provider_account_and_tag(loaded_lazy: Lazy[Store]) -> None:
    loaded = loaded_lazy.get()
    scoped = Filters(date(2026, 5, 1), date(2026, 6, 1), providers=("AWS",), accounts=("111",))
    assert analysis.totals(loaded, scoped) == {"AWS": 110.0}
    tagged = Filters(date(2026, 5, 1), date(2026, 6, 1), tags=(("team", "ml"),))
    assert analysis.totals(loaded, tagged) == {"AWS": 60.0, "Google Cloud": 7.0}


@pytest.mark.points(4)
def test_allocation_splits_shared_costs_by_direct_share(loaded_lazy: Lazy[Store]) -> None:
    loaded = loaded_lazy.get()
    aws_may = Filters(date(2026, 5, 1), date(2026, 6, 1), providers=("AWS",))
    result = analysis.allocate(loaded, "team", aws_may)
    # direct ml 60, web 40; shared pool = untagged 30 + team=shared 20 = 50, split 60:40
    assert result.shared_pool == 50.0
    assert [(r["owner"], r["direct"], r["shared"], r["total"]) for r in result.rows] == [
        ("ml", 60.0, 30.0, 90.0), ("web", 40.0, 20.0, 60.0)]
    assert sum(r["total"] for r in result.rows) == 150.0


@pytest.mark.hidden
@pytest.mark.points(2)
def test_allocation_with_shared_services(loaded_lazy: Lazy[Store]) -> None:
    loaded = loaded_lazy.get()
    rule = SharedRule(tag_values=(), services=("S3",), untagged_is_shared=True)
    result = analysis.allocate(loaded, "team", MAY, rule)
    owners = {r["owner"]: round(r["total"], 6) for r in result.rows}
    # direct: ml 67, web 40, shared(tag value, not shared now) 20 -> pool 30 by 67:40:20
    assert owners == {"ml": round(67 + 30 * 67 / 127, 6), "web": round(40 + 30 * 40 / 127, 6),
                      "shared": round(20 + 30 * 20 / 127, 6)}


@pytest.mark.points(2)
def test_untagged_spend(loaded_lazy: Lazy[Store]) -> None:
    loaded = loaded_lazy.get()
    got = analysis.untagged(loaded, "team", MAY)
    assert got == [{"provider": "AWS", "service": "S3", "untagged": 30.0, "total": 30.0,
                    "share": 1.0}]


def test_top_movers(loaded_lazy: Lazy[Store]) -> None:
    loaded = loaded_lazy.get()
    movers = analysis.top_movers(loaded, "service", end=date(2026, 6, 2), days=7)
    assert movers[0]["key"] == "EC2" and movers[0]["change"] == 1000.0


def test_bad_dimension_and_tag_key_are_usage_errors(loaded_lazy: Lazy[Store]) -> None:
    loaded = loaded_lazy.get()
    with pytest.raises(UsageError, match="unknown dimension"):
        analysis.rollup(loaded, "colour", MAY)
    with pytest.raises(UsageError, match="invalid tag key"):
        analysis.rollup(loaded, "tag:a'b", MAY)
