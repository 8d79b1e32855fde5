"""GCP: the BigQuery billing export (standard or FOCUS table) and Cloud Billing catalog prices.

GCP has no cost API of its own: spend lives in the billing export a project writes to
BigQuery. `query_and_wait` runs one parameterised query (dates are query parameters, never
spliced into the SQL). The standard export has no list cost; it is computed from the usage
in pricing units and the SKU's list price from `CloudCatalogClient.list_skus`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from google.api_core import exceptions as gexc

from costwatch.errors import ProviderError, UsageError
from costwatch.focus import rows_to_table

_TABLE = re.compile(r"^[A-Za-z0-9_.:-]+$")
_LABEL = re.compile(r"^[a-z0-9_-]{1,63}$")


def gcp_error(exc: Exception, what: str) -> ProviderError:
    status = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    return ProviderError("gcp", f"{what}: {message.splitlines()[0]}",
                         int(status) if isinstance(status, int) else None)


def standard_export_sql(table: str, labels: list[str]) -> str:
    """Daily cost per service, project, region and SKU from the standard usage export."""
    if not _TABLE.match(table):
        raise UsageError(f"invalid BigQuery table name {table!r}")
    label_cols = "".join(
        f",\n  (SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = @label_{i}) AS label_{i}"
        for i in range(len(labels)))
    group = ", ".join(str(i) for i in range(1, 9 + len(labels)))
    return f"""SELECT
  DATE(usage_start_time) AS day,
  billing_account_id,
  service.description AS service,
  project.id AS project_id,
  project.name AS project_name,
  location.region AS region,
  sku.id AS sku_id,
  currency{label_cols},
  SUM(cost) AS cost,
  SUM(cost) + SUM(IFNULL((SELECT SUM(c.amount) FROM UNNEST(credits) AS c), 0))
    AS effective_cost,
  SUM(usage.amount_in_pricing_units) AS pricing_quantity,
  ANY_VALUE(usage.pricing_unit) AS pricing_unit
FROM `{table}`
WHERE usage_start_time >= @start AND usage_start_time < @end
GROUP BY {group}
ORDER BY day"""


def focus_export_sql(table: str) -> str:
    if not _TABLE.match(table):
        raise UsageError(f"invalid BigQuery table name {table!r}")
    return (f"SELECT * FROM `{table}` WHERE ChargePeriodStart >= @start "
            "AND ChargePeriodStart < @end")


def unit_price(sku: Any) -> tuple[float, str] | None:
    """The list price of one pricing unit (first tier) and its currency, from a catalog SKU."""
    for info in sku.pricing_info:
        rates = info.pricing_expression.tiered_rates
        if rates:
            first = min(rates, key=lambda r: r.start_usage_amount)
            money = first.unit_price
            return money.units + money.nanos / 1e9, money.currency_code
    return None


class BigQueryBillingSource:
    """Spend from a BigQuery billing export; `kind` is "standard" or "focus"."""

    def __init__(self, client: Any, table: str, kind: str = "standard",
                 labels: list[str] | None = None, catalog: Any = None,
                 catalog_services: list[str] | None = None, name: str = "gcp:bigquery"
                 ) -> None:
        if kind not in ("standard", "focus"):
            raise UsageError(f"unknown export kind {kind!r}: use standard or focus")
        for label in labels or []:
            if not _LABEL.match(label):
                raise UsageError(f"invalid GCP label key {label!r}")
        self.client = client
        self.table = table
        self.kind = kind
        self.labels = labels or []
        self.catalog = catalog
        self.catalog_services = catalog_services or []
        self.name = name

    def list_prices(self) -> dict[str, tuple[float, str]]:
        """sku id -> (unit list price, currency) for the configured catalog services."""
        prices: dict[str, tuple[float, str]] = {}
        if self.catalog is None:
            return prices
        for service in self.catalog_services:
            try:
                for sku in self.catalog.list_skus(parent=f"services/{service}"):
                    price = unit_price(sku)
                    if price is not None:
                        prices[sku.sku_id] = price
            except gexc.GoogleAPICallError as exc:
                raise gcp_error(exc, f"Cloud Billing catalog services/{service}") from exc
        return prices

    def fetch(self, start: date, end: date) -> pa.Table:
        from google.cloud import bigquery

        lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
        hi = datetime(end.year, end.month, end.day, tzinfo=UTC)
        params: list[Any] = [bigquery.ScalarQueryParameter("start", "TIMESTAMP", lo),
                             bigquery.ScalarQueryParameter("end", "TIMESTAMP", hi)]
        if self.kind == "standard":
            sql = standard_export_sql(self.table, self.labels)
            params += [bigquery.ScalarQueryParameter(f"label_{i}", "STRING", key)
                       for i, key in enumerate(self.labels)]
        else:
            sql = focus_export_sql(self.table)
        config = bigquery.QueryJobConfig(query_parameters=params)
        try:
            rows = [dict(r.items()) for r in self.client.query_and_wait(sql, job_config=config)]
        except gexc.GoogleAPICallError as exc:
            raise gcp_error(exc, f"BigQuery query on {self.table}") from exc
        if self.kind == "focus":
            return rows_to_table([focus_row(r) for r in rows]) if rows else _empty()
        prices = self.list_prices()
        out = [standard_row(r, self.labels, prices) for r in rows]
        return rows_to_table(out) if out else _empty()


def standard_row(r: dict[str, Any], labels: list[str], prices: dict[str, tuple[float, str]]
                 ) -> dict[str, Any]:
    """One standard-export result row -> FOCUS (pure)."""
    # BEGIN SOLUTION: one row -> FOCUS; ListCost = pricing quantity x catalog price
    day = r["day"]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    tags = {key: r[f"label_{i}"] for i, key in enumerate(labels) if r.get(f"label_{i}")}
    price = prices.get(r.get("sku_id") or "")
    quantity = r.get("pricing_quantity")
    list_cost = None
    if price and quantity is not None and price[1] == r["currency"]:
        list_cost = float(quantity) * price[0]
    return {
        "ProviderName": "Google Cloud", "PublisherName": "Google Cloud",
        "InvoiceIssuerName": "Google Cloud", "BillingAccountId": r.get("billing_account_id"),
        "SubAccountId": r.get("project_id"), "SubAccountName": r.get("project_name"),
        "ServiceName": r["service"], "RegionId": r.get("region"), "SkuId": r.get("sku_id"),
        "ChargePeriodStart": start, "ChargePeriodEnd": start.replace(hour=23, minute=59,
                                                                     second=59),
        "BilledCost": float(r["cost"]), "EffectiveCost": float(r["effective_cost"]),
        "ListCost": list_cost, "BillingCurrency": r["currency"],
        "PricingQuantity": float(quantity) if quantity is not None else None,
        "PricingUnit": r.get("pricing_unit"), "Tags": json.dumps(tags, sort_keys=True),
    }
    # END SOLUTION


def focus_row(r: dict[str, Any]) -> dict[str, Any]:
    """A FOCUS-table row; Tags may come back as an array of {key, value} structs."""
    out = dict(r)
    tags = out.get("Tags")
    if isinstance(tags, list):
        out["Tags"] = json.dumps({t["key"]: t["value"] for t in tags}, sort_keys=True)
    elif isinstance(tags, dict):
        out["Tags"] = json.dumps(tags, sort_keys=True)
    return out


def _empty() -> pa.Table:
    from costwatch.focus import SCHEMA

    return SCHEMA.empty_table().drop_columns(["x_Source"])
