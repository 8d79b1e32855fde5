"""Azure Cost Management through `CostManagementClient.query.usage`.

The Query API answers one page at a time: a `nextLink` in the result means POST the same
body to that URL. It throttles by "query processing units": a 429 carries the wait in
`x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after` (seconds), a header azure-core's
retry policy does not read, so the client is built with retries off and this adapter waits.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from azure.core.rest import HttpRequest

from costwatch.errors import ProviderError, UsageError
from costwatch.focus import rows_to_table

QPU_RETRY_HEADER = "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after"
DIMENSIONS = {"ServiceName", "ResourceGroupName", "ResourceLocation", "ResourceId",
              "SubscriptionId", "MeterCategory"}


class StaticTokenCredential:
    """A bearer token obtained elsewhere (`az account get-access-token`, a CI secret)."""

    def __init__(self, token: str, expires_in: int = 3600) -> None:
        self.token = token
        self.expires_on = int(time.time()) + expires_in

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, self.expires_on)


def make_client(credential: Any, base_url: str | None = None) -> Any:
    """A CostManagementClient with azure-core's retries off (this adapter handles 429s)."""
    from azure.mgmt.costmanagement import CostManagementClient

    kwargs: dict[str, Any] = {"retry_total": 0}
    if base_url:
        kwargs["base_url"] = base_url
    return CostManagementClient(credential, **kwargs)


def retry_after(headers: Any, default: float = 5.0) -> float:
    """Seconds to wait after a 429: the QPU header, then Retry-After, then `default`."""
    # BEGIN SOLUTION: read the QPU header first, then Retry-After, then the default
    for name in (QPU_RETRY_HEADER, "Retry-After", "x-ms-retry-after-ms"):
        value = headers.get(name) if headers is not None else None
        if value:
            seconds = float(value)
            return seconds / 1000 if name.endswith("-ms") else seconds
    return default
    # END SOLUTION


def rows_from_result(columns: list[dict[str, Any]], rows: list[list[Any]],
                     scope: str, tag_key: str | None) -> list[dict[str, Any]]:
    """Query result rows -> FOCUS rows (pure). Columns are looked up by name."""
    names = [c["name"] for c in columns]
    out = []
    for values in rows:
        item = dict(zip(names, values, strict=True))
        day = str(int(item["UsageDate"]))
        start = datetime(int(day[:4]), int(day[4:6]), int(day[6:8]), tzinfo=UTC)
        cost = float(item.get("Cost") or item.get("PreTaxCost") or 0.0)
        tags = {}
        if tag_key and item.get("TagValue"):
            tags[tag_key] = item["TagValue"]
        subscription = scope.split("/subscriptions/")[-1].split("/")[0] if (
            "/subscriptions/" in scope) else scope
        out.append({
            "ProviderName": "Microsoft", "PublisherName": "Microsoft",
            "InvoiceIssuerName": "Microsoft", "SubAccountId": item.get("SubscriptionId")
            or subscription, "ServiceName": item.get("ServiceName") or "(all services)",
            "RegionId": item.get("ResourceLocation"), "ResourceId": item.get("ResourceId"),
            "ResourceName": item.get("ResourceGroupName"),
            "ChargePeriodStart": start, "ChargePeriodEnd": start + timedelta(days=1),
            "BilledCost": cost, "EffectiveCost": cost,
            "BillingCurrency": item.get("Currency", "USD"),
            "Tags": json.dumps(tags, sort_keys=True),
        })
    return out


class AzureCostSource:
    """Daily actual cost of one scope (subscription, resource group, billing account)."""

    def __init__(self, client: Any, scope: str, group_by: list[str] | None = None,
                 tag_key: str | None = None, name: str = "azure:cost-management",
                 sleep: Callable[[float], None] = time.sleep, max_retries: int = 5) -> None:
        groups = group_by or ["ServiceName", "ResourceGroupName"]
        unknown = [g for g in groups if g not in DIMENSIONS]
        if unknown or len(groups) + (1 if tag_key else 0) > 2:
            raise UsageError(f"Azure groups by at most two of {sorted(DIMENSIONS)} or a tag "
                             f"(got {groups}{' + tag' if tag_key else ''})")
        self.client = client
        self.scope = scope
        self.groups = groups
        self.tag_key = tag_key
        self.name = name
        self.sleep = sleep
        self.max_retries = max_retries
        self.waits: list[float] = []

    def definition(self, start: date, end: date) -> Any:
        from azure.mgmt.costmanagement import models as m

        grouping = [m.QueryGrouping(type="Dimension", name=g) for g in self.groups]
        if self.tag_key:
            grouping.append(m.QueryGrouping(type="TagKey", name=self.tag_key))
        last = end - timedelta(days=1)
        return m.QueryDefinition(
            type="ActualCost", timeframe="Custom",
            time_period=m.QueryTimePeriod(
                from_property=datetime(start.year, start.month, start.day, tzinfo=UTC),
                to=datetime(last.year, last.month, last.day, 23, 59, 59, tzinfo=UTC)),
            dataset=m.QueryDataset(
                granularity="Daily",
                aggregation={"totalCost": m.QueryAggregation(name="Cost", function="Sum")},
                grouping=grouping))

    def _with_retries(self, call: Callable[[], Any]) -> Any:
        # BEGIN SOLUTION: on 429 sleep for the QPU retry-after header, retry; map errors
        for attempt in range(self.max_retries + 1):
            try:
                return call()
            except HttpResponseError as exc:
                status = exc.status_code
                if status == 429 and attempt < self.max_retries:
                    wait = retry_after(getattr(exc.response, "headers", None))
                    self.waits.append(wait)
                    self.sleep(wait)
                    continue
                message = (exc.message or str(exc)).splitlines()[0]
                raise ProviderError("azure", f"Cost Management query: {message}",
                                    status) from exc
            except ServiceRequestError as exc:
                raise ProviderError("azure", f"cannot reach Cost Management: {exc}") from exc
        raise ProviderError("azure", "Cost Management query: still throttled", 429)
        # END SOLUTION

    def _next_page(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.send_request(HttpRequest("POST", url, json=body),
                                            enforce_https=False)
        if response.status_code >= 400:
            raise HttpResponseError(response=response)
        payload: dict[str, Any] = response.json()
        return payload

    def fetch(self, start: date, end: date) -> pa.Table:
        query = self.definition(start, end)
        result = self._with_retries(
            lambda: self.client.query.usage(self.scope, query, enforce_https=False))
        columns = [{"name": c.name, "type": c.type} for c in result.columns or []]
        rows = rows_from_result(columns, result.rows or [], self.scope, self.tag_key)
        next_link = result.next_link
        body = query.as_dict()  # REST names: the same JSON the first request sent
        while next_link:
            page: dict[str, Any] = self._with_retries(
                functools.partial(self._next_page, next_link, body))
            props = page.get("properties", {})
            rows += rows_from_result(props.get("columns", []), props.get("rows", []),
                                     self.scope, self.tag_key)
            next_link = props.get("nextLink")
        if not rows:
            from costwatch.focus import SCHEMA

            return SCHEMA.empty_table().drop_columns(["x_Source"])
        return rows_to_table(rows)
