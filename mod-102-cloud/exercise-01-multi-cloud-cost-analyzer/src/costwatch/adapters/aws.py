"""AWS through boto3: Cost Explorer (`get_cost_and_usage`) and FOCUS Parquet exports in S3.

Cost Explorer gives DAILY amounts grouped by at most two dimensions or tags; a day the
bill is not final yet comes back with `Estimated: true` and is flagged in x_Estimated so a
later re-ingest (which replaces the period) restates it. Results are paged with
`NextPageToken`: every page must be joined or days go missing.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from costwatch.adapters.focus_file import read_focus_bytes
from costwatch.errors import ProviderError, UsageError
from costwatch.focus import filter_period, rows_to_table

GROUP_DIMENSIONS = {"SERVICE", "LINKED_ACCOUNT", "REGION", "USAGE_TYPE", "INSTANCE_TYPE"}


def aws_error(exc: Exception, what: str) -> ProviderError:
    """One line from a botocore error: the API's code and message, and the HTTP status."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return ProviderError("aws", f"{what}: {err.get('Code')}: {err.get('Message')}", status)
    if isinstance(exc, EndpointConnectionError):
        return ProviderError("aws", f"{what}: cannot reach {exc.kwargs.get('endpoint_url')}")
    return ProviderError("aws", f"{what}: {exc}")


def parse_group_by(spec: list[str]) -> list[dict[str, str]]:
    """["SERVICE", "tag:team"] -> Cost Explorer GroupBy (at most two, as the API allows)."""
    if not 1 <= len(spec) <= 2:
        raise UsageError("Cost Explorer groups by one or two dimensions/tags")
    out = []
    for item in spec:
        if item.lower().startswith("tag:"):
            out.append({"Type": "TAG", "Key": item[4:]})
        elif item.upper() in GROUP_DIMENSIONS:
            out.append({"Type": "DIMENSION", "Key": item.upper()})
        else:
            raise UsageError(f"unknown Cost Explorer grouping {item!r}: use "
                             f"{', '.join(sorted(GROUP_DIMENSIONS))} or tag:<key>")
    return out


def ce_results_to_rows(pages: list[dict[str, Any]], group_by: list[dict[str, str]],
                       account: str | None = None) -> list[dict[str, Any]]:
    """Flatten Cost Explorer pages into FOCUS rows (pure: tested on literal payloads)."""
    rows = []
    for page in pages:
        for result in page.get("ResultsByTime", []):
            start = datetime.fromisoformat(result["TimePeriod"]["Start"]).replace(tzinfo=UTC)
            end = datetime.fromisoformat(result["TimePeriod"]["End"]).replace(tzinfo=UTC)
            for group in result.get("Groups", []):
                row: dict[str, Any] = {
                    "ProviderName": "AWS", "PublisherName": "AWS",
                    "InvoiceIssuerName": "AWS", "ServiceName": "(all services)",
                    "SubAccountId": account, "ChargePeriodStart": start,
                    "ChargePeriodEnd": end, "x_Estimated": bool(result.get("Estimated")),
                }
                tags: dict[str, str] = {}
                for spec, key in zip(group_by, group["Keys"], strict=True):
                    if spec["Type"] == "TAG":
                        # Cost Explorer returns "team$ml"; "team$" means untagged.
                        value = key.split("$", 1)[1] if "$" in key else key
                        if value:
                            tags[spec["Key"]] = value
                    elif spec["Key"] == "SERVICE":
                        row["ServiceName"] = key
                    elif spec["Key"] == "LINKED_ACCOUNT":
                        row["SubAccountId"] = key
                    elif spec["Key"] == "REGION":
                        row["RegionId"] = key
                    else:
                        row["SkuId"] = key
                row["Tags"] = json.dumps(tags, sort_keys=True)
                metrics = group["Metrics"]
                unblended = metrics["UnblendedCost"]
                row["BilledCost"] = float(unblended["Amount"])
                row["BillingCurrency"] = unblended["Unit"]
                amortized = metrics.get("AmortizedCost", unblended)
                row["EffectiveCost"] = float(amortized["Amount"])
                if "UsageQuantity" in metrics:
                    row["ConsumedQuantity"] = float(metrics["UsageQuantity"]["Amount"])
                rows.append(row)
    return rows


class CostExplorerSource:
    """Daily cost from Cost Explorer, grouped by service and account (or tags)."""

    def __init__(self, client: Any, group_by: list[str] | None = None,
                 account: str | None = None, name: str = "aws:ce") -> None:
        self.client = client
        self.group_by = parse_group_by(group_by or ["SERVICE", "LINKED_ACCOUNT"])
        self.account = account
        self.name = name
        self.pages_read = 0

    def fetch(self, start: date, end: date) -> pa.Table:
        # BEGIN SOLUTION: call get_cost_and_usage until no NextPageToken, then flatten the pages
        pages = []
        token: str | None = None
        while True:
            request: dict[str, Any] = {
                "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
                "Granularity": "DAILY",
                "Metrics": ["UnblendedCost", "AmortizedCost", "UsageQuantity"],
                "GroupBy": self.group_by,
            }
            if token:
                request["NextPageToken"] = token
            try:
                page = self.client.get_cost_and_usage(**request)
            except (ClientError, BotoCoreError) as exc:
                raise aws_error(exc, "Cost Explorer get_cost_and_usage") from exc
            pages.append(page)
            token = page.get("NextPageToken")
            if not token:
                break
        self.pages_read = len(pages)
        rows = ce_results_to_rows(pages, self.group_by, self.account)
        return rows_to_table(rows) if rows else _empty()
        # END SOLUTION


def _empty() -> pa.Table:
    from costwatch.focus import SCHEMA

    return SCHEMA.empty_table().drop_columns(["x_Source"])


class S3FocusSource:
    """FOCUS exports (Parquet or CSV) under an S3 prefix, as AWS Data Exports writes them."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", name: str | None = None
                 ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.name = name or f"s3:{bucket}/{prefix}".rstrip("/")
        self.objects_read: list[str] = []

    def fetch(self, start: date, end: date) -> pa.Table:
        tables = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            keys = [obj["Key"] for page in paginator.paginate(Bucket=self.bucket,
                                                              Prefix=self.prefix)
                    for obj in page.get("Contents", [])
                    if obj["Key"].endswith((".parquet", ".csv", ".csv.gz"))]
            for key in sorted(keys):
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                tables.append(read_focus_bytes(body, key))
                self.objects_read.append(key)
        except (ClientError, BotoCoreError) as exc:
            raise aws_error(exc, f"s3://{self.bucket}/{self.prefix}") from exc
        if not tables:
            raise ProviderError("aws", f"no FOCUS files under s3://{self.bucket}/{self.prefix}",
                                404)
        table = pa.concat_tables(tables, promote_options="permissive")
        return filter_period(table, start, end)


def put_parquet(client: Any, url: str, table: pa.Table) -> None:
    """Write a table as one Parquet object to s3://bucket/key."""
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise UsageError(f"not an s3://bucket/key URL: {url}")
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    try:
        client.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    except (ClientError, BotoCoreError) as exc:
        raise aws_error(exc, f"put {url}") from exc
