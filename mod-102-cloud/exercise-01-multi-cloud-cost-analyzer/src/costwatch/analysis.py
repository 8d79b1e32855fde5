"""Analysis in DuckDB SQL over the FOCUS store: rollups, tag allocation, untagged spend,
daily series for forecasts and anomaly detection.

Everything is a query with bound parameters over the `costs` table; the only Python here
builds the WHERE clause from `Filters` and shapes results. Costs are EffectiveCost
(amortised: commitment purchases spread over the usage they cover) unless a caller asks for
BilledCost or ListCost, the FOCUS metric a FinOps team reports on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from costwatch.errors import DateRangeError, UsageError
from costwatch.store import Store

METRICS = ("EffectiveCost", "BilledCost", "ListCost")
# The store is in UTC, so a charge's day is integer division of its epoch microseconds:
# grouping on that integer skips the time-zone calendar (date_trunc is ~5x slower).
DAY_NUMBER = 'epoch_us("ChargePeriodStart") // 86400000000'
DAY_OF = "(DATE '1970-01-01' + CAST({} AS INTEGER))"
_TAG_KEY = re.compile(r"^[A-Za-z0-9_.:/=+@ -]{1,128}$")


def tag_expr(key: str) -> str:
    """SQL for one tag's value; the key is validated (it is spliced into a JSON path)."""
    if not _TAG_KEY.match(key):
        raise UsageError(f"invalid tag key {key!r}")
    return f"json_extract_string(\"Tags\", '$.\"{key}\"')"


def dimension_expr(by: str) -> str:
    """provider | service | account | region | resource | category | tag:<key>."""
    fixed = {"provider": '"ProviderName"', "service": '"ServiceName"',
             "account": '"SubAccountId"', "region": 'coalesce("RegionId", \'(global)\')',
             "resource": 'coalesce("ResourceId", \'(none)\')',
             "category": '"ChargeCategory"'}
    if by in fixed:
        return fixed[by]
    if by.startswith("tag:"):
        return f"coalesce({tag_expr(by[4:])}, '(untagged)')"
    raise UsageError(f"unknown dimension {by!r}: use provider, service, account, "
                         "region, resource, category or tag:<key>")


@dataclass(frozen=True)
class Filters:
    """Which rows an analysis covers: charge days in [start, end), optional scopes."""

    start: date | None = None
    end: date | None = None
    providers: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    metric: str = "EffectiveCost"

    def __post_init__(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise DateRangeError(f"empty date range {self.start}..{self.end}")
        if self.metric not in METRICS:
            raise UsageError(f"unknown metric {self.metric!r}: use {', '.join(METRICS)}")

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = ["TRUE"]
        params: list[Any] = []
        if self.start:
            clauses.append('"ChargePeriodStart" >= ?')
            params.append(_midnight(self.start))
        if self.end:
            clauses.append('"ChargePeriodStart" < ?')
            params.append(_midnight(self.end))
        for column, values in (("ProviderName", self.providers),
                               ("ServiceName", self.services),
                               ("SubAccountId", self.accounts)):
            if values:
                clauses.append(f'"{column}" IN ({", ".join("?" for _ in values)})')
                params.extend(values)
        for key, value in self.tags:
            clauses.append(f"{tag_expr(key)} = ?")
            params.append(value)
        return " AND ".join(clauses), params

    def with_range(self, start: date | None, end: date | None) -> Filters:
        return Filters(start, end, self.providers, self.services, self.accounts, self.tags,
                       self.metric)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _rows(store: Store, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = store.con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def totals(store: Store, filters: Filters) -> dict[str, float]:
    """Total cost per provider (the headline of every report)."""
    where, params = filters.where()
    rows = _rows(store, f'SELECT "ProviderName" AS provider, sum("{filters.metric}") AS cost '
                 f"FROM costs WHERE {where} GROUP BY 1 ORDER BY 2 DESC", params)
    return {r["provider"]: float(r["cost"]) for r in rows}


def rollup(store: Store, by: str, filters: Filters, granularity: str = "total"
           ) -> list[dict[str, Any]]:
    """Cost grouped by a dimension, per `day`, `month` or over the whole range (`total`)."""
    dim = dimension_expr(by)
    where, params = filters.where()
    if granularity == "total":
        sql = (f"SELECT {dim} AS key, sum(\"{filters.metric}\") AS cost FROM costs "
               f"WHERE {where} GROUP BY 1 ORDER BY cost DESC, key")
    elif granularity == "day":
        sql = (f"SELECT {DAY_OF.format('day')} AS period, key, cost FROM ("
               f"SELECT {DAY_NUMBER} AS day, {dim} AS key, sum(\"{filters.metric}\") AS cost "
               f"FROM costs WHERE {where} GROUP BY 1, 2) ORDER BY 1, cost DESC, key")
    elif granularity == "month":
        sql = (f"SELECT date_trunc('month', \"ChargePeriodStart\")::DATE AS period, "
               f"{dim} AS key, sum(\"{filters.metric}\") AS cost FROM costs WHERE {where} "
               "GROUP BY 1, 2 ORDER BY 1, cost DESC, key")
    else:
        raise UsageError(f"unknown granularity {granularity!r}: use total, day or month")
    return _rows(store, sql, params)


def daily_totals(store: Store, filters: Filters) -> dict[date, float]:
    where, params = filters.where()
    rows = _rows(store, f"SELECT {DAY_OF.format('d')} AS day, cost FROM (SELECT {DAY_NUMBER} "
                 f'AS d, sum("{filters.metric}") AS cost FROM costs WHERE {where} GROUP BY 1) '
                 "ORDER BY 1", params)
    return {r["day"]: float(r["cost"]) for r in rows}


@dataclass(frozen=True)
class SharedRule:
    """What counts as shared cost: untagged rows, listed tag values, listed services."""

    tag_values: tuple[str, ...] = ("shared",)
    services: tuple[str, ...] = ()
    untagged_is_shared: bool = True


@dataclass
class Allocation:
    key: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    shared_pool: float = 0.0
    unallocated: float = 0.0  # shared cost with no owner to split it on (no direct spend)


def allocate(store: Store, tag_key: str, filters: Filters,
             shared: SharedRule | None = None) -> Allocation:
    """Cost per owner (value of `tag_key`), shared costs split in proportion to direct cost.

    Proportional split is what OpenCost and most chargeback models default to: a team that
    causes 60% of the attributable spend carries 60% of the platform it runs on.
    """
    # BEGIN SOLUTION: classify rows direct/shared, split the shared pool by direct cost
    rule = shared or SharedRule()
    where, params = filters.where()
    owner = tag_expr(tag_key)
    shared_clauses = []
    shared_params: list[Any] = []
    if rule.untagged_is_shared:
        shared_clauses.append("owner IS NULL OR owner = ''")
    if rule.tag_values:
        shared_clauses.append(f"owner IN ({', '.join('?' for _ in rule.tag_values)})")
        shared_params.extend(rule.tag_values)
    if rule.services:
        shared_clauses.append(f"service IN ({', '.join('?' for _ in rule.services)})")
        shared_params.extend(rule.services)
    is_shared = " OR ".join(f"({c})" for c in shared_clauses) or "FALSE"
    sql = f"""
        WITH base AS (
            SELECT {owner} AS owner, "ServiceName" AS service, "{filters.metric}" AS cost
            FROM costs WHERE {where}),
        classified AS (
            SELECT CASE WHEN {is_shared} THEN NULL ELSE owner END AS owner, cost FROM base),
        direct AS (SELECT owner, sum(cost) AS direct FROM classified
                   WHERE owner IS NOT NULL GROUP BY owner),
        pool AS (SELECT coalesce(sum(cost), 0) AS shared FROM classified WHERE owner IS NULL)
        SELECT owner, direct,
               CASE WHEN sum(direct) OVER () = 0 THEN 0
                    ELSE pool.shared * direct / sum(direct) OVER () END AS shared,
               pool.shared AS pool
        FROM direct, pool ORDER BY direct DESC, owner"""
    rows = _rows(store, sql, params + shared_params)
    result = Allocation(key=tag_key)
    if rows:
        result.shared_pool = float(rows[0]["pool"])
    else:
        pool = _rows(store, f'SELECT coalesce(sum("{filters.metric}"), 0) AS pool FROM costs '
                     f"WHERE {where}", params)
        result.shared_pool = result.unallocated = float(pool[0]["pool"])
    for row in rows:
        result.rows.append({"owner": row["owner"], "direct": float(row["direct"]),
                            "shared": float(row["shared"]),
                            "total": float(row["direct"]) + float(row["shared"])})
    return result
    # END SOLUTION


def untagged(store: Store, tag_key: str, filters: Filters) -> list[dict[str, Any]]:
    """Spend without `tag_key`, per provider and service, with its share of the total."""
    where, params = filters.where()
    sql = f"""
        SELECT "ProviderName" AS provider, "ServiceName" AS service,
               sum("{filters.metric}") FILTER (WHERE coalesce({tag_expr(tag_key)}, '') = '')
                   AS untagged,
               sum("{filters.metric}") AS total
        FROM costs WHERE {where} GROUP BY 1, 2
        HAVING untagged > 0 ORDER BY untagged DESC"""
    out = []
    for row in _rows(store, sql, params):
        total = float(row["total"])
        out.append({"provider": row["provider"], "service": row["service"],
                    "untagged": float(row["untagged"]), "total": total,
                    "share": float(row["untagged"]) / total if total else 0.0})
    return out


SeriesKey = tuple[str, str, str]  # provider, service, account


def series_by_group(store: Store, filters: Filters) -> dict[SeriesKey, dict[date, float]]:
    """Daily cost per (provider, service, account): the unit anomalies are detected on."""
    where, params = filters.where()
    sql = (f"SELECT p, s, a, {DAY_OF.format('d')}, cost FROM (SELECT \"ProviderName\" AS p, "
           f'"ServiceName" AS s, "SubAccountId" AS a, {DAY_NUMBER} AS d, '
           f'sum("{filters.metric}") AS cost FROM costs WHERE {where} GROUP BY 1, 2, 3, 4)')
    out: dict[SeriesKey, dict[date, float]] = {}
    for provider, service, account, day, cost in store.con.execute(sql, params).fetchall():
        out.setdefault((provider, service, account or ""), {})[day] = float(cost)
    return out


def breakdown(store: Store, key: SeriesKey, days: list[date], filters: Filters
              ) -> dict[str, dict[str, dict[date, float]]]:
    """For one series: cost per region and per resource on each of `days` (root causes)."""
    provider, service, account = key
    scoped = Filters(providers=(provider,), services=(service,),
                     accounts=(account,) if account else (), tags=filters.tags,
                     metric=filters.metric)
    where, params = scoped.where()
    day_list = ", ".join("?" for _ in days)
    out: dict[str, dict[str, dict[date, float]]] = {}
    for dim in ("region", "resource"):
        sql = (f'SELECT {dimension_expr(dim)}, "ChargePeriodStart"::DATE AS day, '
               f'sum("{filters.metric}") FROM costs WHERE {where} AND '
               f'"ChargePeriodStart"::DATE IN ({day_list}) GROUP BY 1, 2')
        table: dict[str, dict[date, float]] = {}
        for name, day, cost in store.con.execute(sql, params + list(days)).fetchall():
            table.setdefault(name, {})[day] = float(cost)
        out[dim] = table
    return out


def top_movers(store: Store, by: str, end: date, days: int = 7, limit: int = 10,
               filters: Filters | None = None) -> list[dict[str, Any]]:
    """The largest changes between the last `days` before `end` and the `days` before that."""
    base = filters or Filters()
    mid = end - timedelta(days=days)
    start = mid - timedelta(days=days)
    where, params = base.with_range(start, end).where()
    dim = dimension_expr(by)
    sql = f"""
        SELECT {dim} AS key,
               coalesce(sum("{base.metric}") FILTER (WHERE "ChargePeriodStart" >= ?), 0)
                   AS current,
               coalesce(sum("{base.metric}") FILTER (WHERE "ChargePeriodStart" < ?), 0)
                   AS previous
        FROM costs WHERE {where} GROUP BY 1
        ORDER BY abs(current - previous) DESC, key LIMIT {int(limit)}"""
    rows = _rows(store, sql, [_midnight(mid), _midnight(mid), *params])
    for row in rows:
        row["change"] = float(row["current"]) - float(row["previous"])
        row["change_pct"] = (row["change"] / float(row["previous"])
                             if row["previous"] else None)
    return rows


COMPUTE_SERVICES = ("Amazon Elastic Compute Cloud", "Amazon Elastic Compute Cloud - Compute",
                    "Compute Engine", "Virtual Machines")


def compute_daily(store: Store, filters: Filters
                  ) -> dict[str, tuple[dict[date, float], dict[date, float]]]:
    """Per provider: daily on-demand compute spend and daily commitment-covered spend."""
    where, params = filters.where()
    names = ", ".join("?" for _ in COMPUTE_SERVICES)
    sql = (f'SELECT "ProviderName", "ChargePeriodStart"::DATE, '
           f'"CommitmentDiscountId" IS NOT NULL, sum("{filters.metric}") FROM costs '
           f"WHERE {where} AND (\"ServiceCategory\" = 'Compute' OR \"ServiceName\" IN ({names})) "
           "AND \"ChargeCategory\" = 'Usage' GROUP BY 1, 2, 3")
    out: dict[str, tuple[dict[date, float], dict[date, float]]] = {}
    for provider, day, covered, cost in store.con.execute(
            sql, params + list(COMPUTE_SERVICES)).fetchall():
        on_demand, committed = out.setdefault(provider, ({}, {}))
        (committed if covered else on_demand)[day] = float(cost)
    return out
